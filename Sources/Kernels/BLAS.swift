import CBLAS

/// Thin, shape-named wrappers over OpenBLAS's sgemm. All matrices are row-major.
public enum BLAS {
    /// C[m, n] = alpha * op(A) · op(B) + beta * C, where op(A) is [m, k] and op(B) is [k, n].
    /// `transA`: A is stored [k, m]; `transB`: B is stored [n, k] (PyTorch's Linear weight layout).
    @inlinable
    public static func sgemm(transA: Bool = false, transB: Bool = false,
                             m: Int, n: Int, k: Int, alpha: Float = 1,
                             a: UnsafePointer<Float>, lda: Int? = nil,
                             b: UnsafePointer<Float>, ldb: Int? = nil,
                             beta: Float = 0,
                             c: UnsafeMutablePointer<Float>, ldc: Int? = nil) {
        if m == 0 || n == 0 { return }
        let lda = lda ?? (transA ? m : k)
        let ldb = ldb ?? (transB ? k : n)
        let ldc = ldc ?? n
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// y[m] = alpha · A[m, n] · x[n] + beta · y, with A row-major.
    @inlinable
    public static func sgemv(m: Int, n: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil,
                             x: UnsafePointer<Float>, beta: Float = 0, y: UnsafeMutablePointer<Float>) {
        if m == 0 { return }
        cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(m), Int32(n), alpha, a, Int32(lda ?? n), x, 1, beta, y, 1)
    }

    /// The OpenBLAS core name, such as "Haswell", "SkylakeX" or "Prescott".
    public static var coreName: String { String(cString: openblas_get_corename()) }
    /// The OpenBLAS build configuration string.
    public static var configuration: String { String(cString: openblas_get_config()) }
    /// The number of threads OpenBLAS uses.
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(newValue)) }
    }
}

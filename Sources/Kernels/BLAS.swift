import CBLAS
import CKernels

/// Thin, shape-named wrappers over OpenBLAS's sgemm. All matrices are row-major.
public enum BLAS {
    /// C[m, n] = alpha * op(A) · op(B) + beta * C, where op(A) is [m, k] and op(B) is [k, n].
    /// `transA`: A is stored [k, m]; `transB`: B is stored [n, k] (PyTorch's Linear weight layout).
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
        _ = oneThreadPerCall
        let call = { (m: Int, n: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>) in
            cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                        Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        }
        let parts = Parallel.threads
        guard splitsOverPool && parts > 1 && m * n * k >= splitWork && mk_pool_in_job() == 0 else {
            call(m, n, a, b, c)
            return
        }
        // column bands of C (rows of a transposed B), each a multiple of 16 wide (OpenBLAS's kernel
        // width); row bands when C is too narrow for that
        let byColumns = n >= 32 * parts
        guard byColumns || m >= 16 * parts else { call(m, n, a, b, c); return }
        Parallel.rows(parts, workPerRow: .max / parts) { range in
            for p in range {
                if byColumns {
                    let lo = (n * p / parts) & ~15, hi = p == parts - 1 ? n : (n * (p + 1) / parts) & ~15
                    call(m, hi - lo, a, b + (transB ? lo * ldb : lo), c + lo)
                } else {
                    let lo = m * p / parts, hi = m * (p + 1) / parts
                    call(hi - lo, n, a + (transA ? lo : lo * lda), b, c + lo * ldc)
                }
            }
        }
    }

    /// OpenBLAS runs every call on the calling thread, and a product of at least `splitWork`
    /// multiply-adds is split into `Parallel.threads` bands of C run on Parallel's pool. With
    /// OpenBLAS's own threads, its idle worker spun in sched_yield on the core that the pool's worker
    /// needed for the elementwise kernels between products: ~11% of a W1 training step in the kernel's
    /// scheduler. One set of threads for everything: W1 1.25 -> 1.10 s/step on 2 cores.
    /// Set it false before the first product to let OpenBLAS's threads (`threads`) split them instead.
    nonisolated(unsafe) public static var splitsOverPool = true
    /// Products below this many multiply-adds (about 5 µs on one core) are not split.
    public static let splitWork = 1 << 20
    /// OpenBLAS set to one thread per call, once, before the first product.
    static let oneThreadPerCall: Void = { if splitsOverPool { openblas_set_num_threads(1) } }()

    /// The OpenBLAS core name, such as "Haswell", "SkylakeX" or "Prescott".
    public static var coreName: String { String(cString: openblas_get_corename()) }
    /// The OpenBLAS build configuration string.
    public static var configuration: String { String(cString: openblas_get_config()) }
    /// The number of threads OpenBLAS uses for one call (1 when `splitsOverPool`, after the first product).
    public static var threads: Int {
        get { _ = oneThreadPerCall; return Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(newValue)) }
    }

    /// How products are spread over the cores, in words (for `device` and the start-up banner).
    public static var threadingDescription: String {
        splitsOverPool ? "1 thread per call, large products split over \(Parallel.threads) core\(Parallel.threads == 1 ? "" : "s")"
                       : "\(threads) thread\(threads == 1 ? "" : "s")"
    }
}

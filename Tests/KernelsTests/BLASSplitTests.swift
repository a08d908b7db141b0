import Foundation
import Testing
import Kernels

/// `BLAS.sgemm` split into bands over the pool: every transposition, band split by columns or rows,
/// leading dimensions wider than the matrices, alpha and beta, against a product in Double; and the
/// same product called from inside a pool job (which runs it unsplit on that thread).
@Suite struct BLASSplitTests {
    static func naive(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: [Float], lda: Int,
                      b: [Float], ldb: Int, beta: Float, c: [Float], ldc: Int) -> [Float] {
        var out = c
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let x = transA ? a[p * lda + i] : a[i * lda + p]
                    let y = transB ? b[j * ldb + p] : b[p * ldb + j]
                    s += Double(x) * Double(y)
                }
                out[i * ldc + j] = Float(Double(alpha) * s + Double(beta) * Double(c[i * ldc + j]))
            }
        }
        return out
    }

    static func run(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, beta: Float, pad: Int) -> Float {
        let lda = (transA ? m : k) + pad, ldb = (transB ? k : n) + pad, ldc = n + pad
        let a = (0..<((transA ? k : m) * lda)).map { Float(sin(Double($0) * 0.37)) }
        let b = (0..<((transB ? n : k) * ldb)).map { Float(cos(Double($0) * 0.11)) }
        var c = (0..<(m * ldc)).map { Float($0 % 7) - 3 }
        let want = naive(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                         beta: beta, c: c, ldc: ldc)
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a.baseAddress!, lda: lda,
                               b: b.baseAddress!, ldb: ldb, beta: beta, c: c.baseAddress!, ldc: ldc)
                }
            }
        }
        return zip(c, want).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
    }

    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func bandsEqualTheWholeProduct(transA: Bool, transB: Bool) {
        // (m, n, k): split by columns (n ≥ 64, bands off the 16 grid), by rows (narrow n), and too small to split
        for (m, n, k) in [(67, 203, 96), (301, 40, 128), (9, 9, 9), (130, 1000, 24)] {
            for (alpha, beta, pad) in [(Float(1), Float(0), 0), (Float(0.5), Float(1), 3)] {
                let err = Self.run(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta, pad: pad)
                #expect(err < 1e-4, "[\(m), \(n), \(k)] transA \(transA) transB \(transB) alpha \(alpha) beta \(beta): error \(err)")
            }
        }
    }

    @Test func productInsideAPoolJob() {
        final class Errors: @unchecked Sendable { var values = [Float](repeating: 0, count: 4) }
        let errors = Errors()
        Parallel.rows(4, workPerRow: 1 << 20) { range in
            for i in range {
                errors.values[i] = Self.run(transA: false, transB: true, m: 100 + i, n: 150, k: 90, alpha: 1, beta: 0, pad: 0)
            }
        }
        #expect(errors.values.allSatisfy { $0 < 1e-4 }, "\(errors.values)")
    }
}

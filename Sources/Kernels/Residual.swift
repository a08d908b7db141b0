// The residual stream: out = a + b, elementwise.

/// out[n] = a[n] + b[n]. `out` may equal `a` or `b`.
///
/// ```swift
/// residual_forward(out: x, a: x, b: attnOut, n: B * T * C)   // x += attention output
/// ```
public func residual_forward(out: UnsafeMutablePointer<Float>,     // [n]
                             a: UnsafePointer<Float>,              // [n]
                             b: UnsafePointer<Float>,              // [n]
                             n: Int) {
    let block = 4096
    Parallel.rows((n + block - 1) / block, workPerRow: block) { range in
        let lo = range.lowerBound * block, hi = Swift.min(n, range.upperBound * block)
        var i = lo
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b), ro = UnsafeMutableRawPointer(out)
        while i + 16 <= hi {
            let v = ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
                + rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            ro.storeBytes(of: v, toByteOffset: i * 4, as: SIMD16<Float>.self)
            i += 16
        }
        while i < hi { out[i] = a[i] + b[i]; i += 1 }
    }
}

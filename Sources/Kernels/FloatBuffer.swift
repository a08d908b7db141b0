import CKernels
import Foundation

/// An f32 buffer (or a slice of one) as the kernels take it.
public typealias FloatPointer = UnsafeMutablePointer<Float>

/// An owned, 64-byte aligned array of Float, for activations and weights that BLAS reads.
///
/// ```swift
/// let x = FloatBuffer(count: 4 * 576)      // zeros
/// x[0] = 1
/// ```
public final class FloatBuffer: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    public init(count: Int, value: Float = 0) {
        self.count = count
        guard let raw = mk_alloc(max(count, 1) * MemoryLayout<Float>.stride) else { fatalError("out of memory: \(count) floats") }
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        FloatBuffer.firstTouch(pointer, count: count, value: value)
    }

    /// Writes `value` over fresh memory, on every core for 4 MiB and more: the first write to each page is
    /// the kernel's page fault and zeroing, which one core does at ~2 GB/s on a VM (the ~560 MB training
    /// arena was 7% of a W1 profile). Each thread faults in its own pages.
    static func firstTouch(_ p: UnsafeMutablePointer<Float>, count: Int, value: Float) {
        let block = 1 << 18   // 1 MiB of floats per row of work
        guard count >= 4 * block else { p.initialize(repeating: value, count: count); return }
        let blocks = (count + block - 1) / block
        Parallel.rows(blocks, workPerRow: block) { range in
            let start = range.lowerBound * block, end = Swift.min(count, range.upperBound * block)
            (p + start).initialize(repeating: value, count: end - start)
        }
    }

    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { mk_free(pointer) }

    /// Whether buffers of 4 MiB and more (these, and `WeightMatrix` storage) are asked on 2 MiB pages
    /// (`mk_alloc`); true unless turned off, for measuring, before they are made.
    public static var usesHugePages: Bool {
        get { mk_huge_pages() != 0 }
        set { mk_set_huge_pages(newValue ? 1 : 0) }
    }

    @inlinable public subscript(i: Int) -> Float {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }

    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    public func fill(_ value: Float) { pointer.update(repeating: value, count: count) }
}

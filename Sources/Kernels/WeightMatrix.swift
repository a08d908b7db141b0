import CKernels
import Foundation

/// How a frozen weight is kept in memory. Arithmetic is always f32.
public enum StorageType: String, Sendable, CaseIterable {
    case f32, bf16, f16

    public var bytesPerElement: Int { self == .f32 ? 4 : 2 }
}

/// A frozen weight matrix `[rows, cols]` = `[out_features, in_features]`, row-major as PyTorch's
/// `nn.Linear.weight`, stored as f32, bf16 or f16.
///
/// ```swift
/// let w = WeightMatrix(rows: 2, cols: 3, values: [1, 0, 0, 0, 1, 0], storage: .bf16)
/// w.forward(x, into: y, n: 1)     // y[1, 2] = x[1, 3] · wᵀ
/// ```
public final class WeightMatrix: @unchecked Sendable {
    public let rows: Int          // out features
    public let cols: Int          // in features
    public let storage: StorageType
    /// f32 storage: `rows * cols` floats. Otherwise nil.
    public let f32: UnsafeMutablePointer<Float>?
    /// bf16/f16 storage: `rows * cols` halves. Otherwise nil.
    public let half: UnsafeMutablePointer<UInt16>?

    /// Rows converted at a time when the storage is not f32 (bounds the scratch memory).
    static let rowBlock = 512
    /// Up to this many input rows, the weights are multiplied directly by `mk_matmul_nt_small`.
    public static let smallBatch = 8

    public init(rows: Int, cols: Int, values: UnsafePointer<Float>, storage: StorageType = .f32) {
        self.rows = rows; self.cols = cols; self.storage = storage
        let n = rows * cols
        switch storage {
        case .f32:
            let p = UnsafeMutableRawPointer.allocate(byteCount: max(n, 1) * 4, alignment: 64).bindMemory(to: Float.self, capacity: max(n, 1))
            p.update(from: values, count: n)
            f32 = p; half = nil
        case .bf16, .f16:
            let p = UnsafeMutableRawPointer.allocate(byteCount: max(n, 1) * 2, alignment: 64).bindMemory(to: UInt16.self, capacity: max(n, 1))
            if storage == .bf16 { mk_f32_to_bf16(values, p, n) } else { mk_f32_to_f16(values, p, n) }
            f32 = nil; half = p
        }
    }

    /// Fills the matrix block by block from `fill(firstRow, rowCount, out)`, which writes
    /// `rowCount * cols` floats; only one block of f32 exists at a time, so a bf16 matrix of a billion
    /// parameters never needs its f32 copy in memory. f32 storage is filled in one call, in place.
    /// `wholeTensor` asks for a single call covering every row (for readers that cannot start
    /// mid-tensor); half storage then converts from one temporary f32 copy.
    public init(rows: Int, cols: Int, storage: StorageType, wholeTensor: Bool = false,
                fill: (_ firstRow: Int, _ rowCount: Int, _ out: UnsafeMutablePointer<Float>) -> Void) {
        self.rows = rows; self.cols = cols; self.storage = storage
        let n = rows * cols
        switch storage {
        case .f32:
            let p = UnsafeMutableRawPointer.allocate(byteCount: max(n, 1) * 4, alignment: 64).bindMemory(to: Float.self, capacity: max(n, 1))
            fill(0, rows, p)
            f32 = p; half = nil
        case .bf16, .f16:
            let p = UnsafeMutableRawPointer.allocate(byteCount: max(n, 1) * 2, alignment: 64).bindMemory(to: UInt16.self, capacity: max(n, 1))
            let block = wholeTensor ? Swift.max(rows, 1) : Swift.max(1, Swift.min(rows, (1 << 20) / Swift.max(cols, 1)))
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: block * cols)
            defer { scratch.deallocate() }
            var r = 0
            while r < rows {
                let count = Swift.min(block, rows - r)
                fill(r, count, scratch)
                if storage == .bf16 { mk_f32_to_bf16(scratch, p + r * cols, count * cols) }
                else { mk_f32_to_f16(scratch, p + r * cols, count * cols) }
                r += count
            }
            f32 = nil; half = p
        }
    }

    public convenience init(rows: Int, cols: Int, values: [Float], storage: StorageType = .f32) {
        precondition(values.count == rows * cols, "WeightMatrix: \(values.count) values for [\(rows), \(cols)]")
        // The array's storage is only valid inside withUnsafeBufferPointer, so copy from within it.
        self.init(rows: rows, cols: cols, storage: storage) { first, count, out in
            values.withUnsafeBufferPointer { out.update(from: $0.baseAddress! + first * cols, count: count * cols) }
        }
    }

    deinit {
        f32?.deallocate()
        half?.deallocate()
    }

    public var byteCount: Int { rows * cols * storage.bytesPerElement }

    /// Converts rows `[start, start + count)` into f32.
    public func decodeRows(_ start: Int, _ count: Int, into out: UnsafeMutablePointer<Float>) {
        let n = count * cols
        switch storage {
        case .f32: out.update(from: f32! + start * cols, count: n)
        case .bf16: mk_bf16_to_f32(half! + start * cols, out, n)
        case .f16: mk_f16_to_f32(half! + start * cols, out, n)
        }
    }

    /// All values as f32.
    public func toFloat32() -> [Float] {
        [Float](unsafeUninitializedCapacity: rows * cols) { buf, count in
            decodeRows(0, rows, into: buf.baseAddress!)
            count = rows * cols
        }
    }

    /// y[n, rows] = x[n, cols] · Wᵀ (+ y when `accumulate`).
    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, n: Int, accumulate: Bool = false) {
        if n <= WeightMatrix.smallBatch {
            // Decode: a few tokens. The weights stream once through registers, where sgemm would
            // first copy them into its packed layout, and OpenBLAS's thread pool stays asleep.
            smallMatmul(x, into: y, n: n, accumulate: accumulate)
            return
        }
        if let w = f32 {
            BLAS.sgemm(transB: true, m: n, n: rows, k: cols, a: x, b: w, beta: accumulate ? 1 : 0, c: y)
            return
        }
        let block = Swift.min(WeightMatrix.rowBlock, rows)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: block * cols)
        defer { scratch.deallocate() }
        var r = 0
        while r < rows {
            let count = Swift.min(block, rows - r)
            decodeRows(r, count, into: scratch)
            BLAS.sgemm(transB: true, m: n, n: count, k: cols, a: x, b: scratch, beta: accumulate ? 1 : 0,
                       c: y + r, ldc: rows)
            r += count
        }
    }

    /// dx[n, cols] = dy[n, rows] · W (+ dx when `accumulate`): the input gradient of `forward`.
    public func backwardInput(_ dy: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, n: Int, accumulate: Bool = false) {
        if let w = f32 {
            BLAS.sgemm(m: n, n: cols, k: rows, a: dy, b: w, beta: accumulate ? 1 : 0, c: dx)
            return
        }
        let block = Swift.min(WeightMatrix.rowBlock, rows)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: block * cols)
        defer { scratch.deallocate() }
        var r = 0
        var first = !accumulate
        while r < rows {
            let count = Swift.min(block, rows - r)
            decodeRows(r, count, into: scratch)
            BLAS.sgemm(m: n, n: cols, k: count, a: dy + r, lda: rows, b: scratch, beta: first ? 0 : 1, c: dx)
            first = false
            r += count
        }
    }

    /// y[n, rows] = x[n, cols] · Wᵀ for a few rows of x (n ≤ `smallBatch`): each weight row is
    /// loaded (widened) in registers and used for all n inputs, so the weights are read once and no
    /// scratch is allocated. Rows are split over the cores.
    func smallMatmul(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, n: Int, accumulate: Bool) {
        let w: UnsafeRawPointer = f32.map { UnsafeRawPointer($0) } ?? UnsafeRawPointer(half!)
        let format: Int32
        switch storage {
        case .f32: format = Int32(MK_WEIGHT_F32)
        case .bf16: format = Int32(MK_WEIGHT_BF16)
        case .f16: format = Int32(MK_WEIGHT_F16)
        }
        let rows = rows, cols = cols
        Parallel.rows(rows, workPerRow: cols * n) { range in
            mk_matmul_nt_small(w, format, x, y, rows, cols, n, range.lowerBound, range.upperBound, accumulate ? 1 : 0)
        }
    }
}

import CKernels
import Foundation

/// The arithmetic of a product with a frozen weight.
public enum ProductPrecision: String, Sendable, CaseIterable {
    /// f32 multiply-adds: bf16/f16 weights are widened exactly, activations are kept as they are.
    case f32
    /// torch's bf16 autocast (and llama.cpp's bf16 arithmetic): with bf16 weights, the activations (or
    /// incoming gradients) are rounded to bf16 and multiplied on AVX512-BF16 (sums in f32), for products
    /// of more than `WeightMatrix.smallBatch` rows and of a single row (decode of one sequence); 2 to 8
    /// rows keep the f32 widening product. Other storage, or a kernel level below `avx512bf16` (a CPU
    /// without AVX512-BF16): as `f32`, bf16 weights widened to f32 in registers.
    case bf16
}

/// How a frozen weight is kept in memory: f32, a 16-bit float, or ggml's blocks of 32 values (Q8_0: 8-bit,
/// Q4_0 and Q4_1: 4-bit, with an f16 scale per block, and Q4_1 an f16 offset; see CKernels' quant.c).
public enum StorageType: String, Sendable, CaseIterable {
    case f32, bf16, f16, q8_0, q4_0, q4_1

    /// The kernels' name for the format (`MK_WEIGHT_*`).
    public var format: Int32 {
        switch self {
        case .f32: return Int32(MK_WEIGHT_F32)
        case .bf16: return Int32(MK_WEIGHT_BF16)
        case .f16: return Int32(MK_WEIGHT_F16)
        case .q8_0: return Int32(MK_WEIGHT_Q8_0)
        case .q4_0: return Int32(MK_WEIGHT_Q4_0)
        case .q4_1: return Int32(MK_WEIGHT_Q4_1)
        }
    }

    /// Q8_0, Q4_0 or Q4_1: values in blocks of `StorageType.blockSize`.
    public var isQuantized: Bool { mk_quant_block_bytes(format) != 0 }

    /// Values per block of the quantized types.
    public static let blockSize = Int(MK_QK)

    /// Bytes of `elements` values (whole blocks for the quantized types: Q8_0 34 bytes per 32 values,
    /// Q4_0 18, Q4_1 20).
    public func bytes(_ elements: Int) -> Int {
        switch self {
        case .f32: return elements * 4
        case .bf16, .f16: return elements * 2
        case .q8_0, .q4_0, .q4_1:
            return (elements + Self.blockSize - 1) / Self.blockSize * mk_quant_block_bytes(format)
        }
    }

    /// Whether rows of `cols` values can be kept in this type: always, but for the quantized types only
    /// whole blocks of 32.
    public func canStore(cols: Int) -> Bool { !isQuantized || cols % Self.blockSize == 0 }

    /// This type for rows of `cols` values, or f32 where they are not whole blocks (a loader's choice for
    /// the few matrices a quantized type cannot hold, as llama.cpp's quantizer does).
    public func fitting(cols: Int) -> StorageType { canStore(cols: cols) ? self : .f32 }
}

/// A frozen weight matrix `[rows, cols]` = `[out_features, in_features]`, row-major as PyTorch's
/// `nn.Linear.weight`, stored as f32, bf16, f16 or in ggml's blocks (q8_0, q4_0, q4_1), with the layer's
/// bias when it has one.
///
/// ```swift
/// let w = WeightMatrix(rows: 2, cols: 3, values: [1, 0, 0, 0, 1, 0], storage: .bf16)
/// w.forward(x, into: y, n: 1)     // y[1, 2] = x[1, 3] · wᵀ
/// ```
public final class WeightMatrix: @unchecked Sendable {
    public let rows: Int          // out features
    public let cols: Int          // in features
    public let storage: StorageType
    /// The values as `storage` keeps them: `storage.bytes(rows * cols)` bytes, row after row, except that
    /// q8_0, q4_0 and q4_1 keep their rows in groups of eight, block by block (`mk_quant_grouped`; CKernels'
    /// quant.c, "row groups"), for the decode product. `ggmlRows` gives any rows in ggml's order.
    public let data: UnsafeMutableRawPointer
    /// f32 storage: `rows * cols` floats. Otherwise nil.
    public var f32: UnsafeMutablePointer<Float>? { storage == .f32 ? data.assumingMemoryBound(to: Float.self) : nil }
    /// bf16/f16 storage: `rows * cols` halves. Otherwise nil.
    public var half: UnsafeMutablePointer<UInt16>? {
        storage == .bf16 || storage == .f16 ? data.assumingMemoryBound(to: UInt16.self) : nil
    }
    /// Bytes of one row in `storage`.
    public var rowBytes: Int { storage.bytes(cols) }
    /// `nn.Linear.bias`, `[rows]` in f32 whatever the storage, added by `forward` (Qwen2's q, k and v
    /// projections); nil for a layer without one. Set when the weights are built, before any product.
    public var bias: FloatBuffer? {
        didSet { precondition(bias.map { $0.count == rows } ?? true, "WeightMatrix: bias of \(bias!.count) for \(rows) rows") }
    }

    /// Rows converted at a time when the storage is not f32 (bounds the scratch memory).
    static let rowBlock = 512
    /// Up to this many input rows, the weights are multiplied directly by `mk_matmul_nt_small`.
    public static let smallBatch = 8

    /// Uninitialised storage for `rows × cols` values of `storage`.
    private init(rows: Int, cols: Int, storage: StorageType) {
        precondition(storage.canStore(cols: cols), "WeightMatrix: \(storage) needs rows of whole blocks of \(StorageType.blockSize), not \(cols)")
        self.rows = rows; self.cols = cols; self.storage = storage
        guard let p = mk_alloc(storage.bytes(rows * cols)) else { fatalError("out of memory: a \(rows) × \(cols) \(storage) matrix") }
        data = p
    }

    /// Writes `count` rows of f32 values into rows `[first, first + count)`, converted to the storage type.
    private func encodeRows(_ first: Int, _ count: Int, from values: UnsafePointer<Float>) {
        let n = count * cols
        switch storage {
        case .f32: (f32! + first * cols).update(from: values, count: n)
        case .bf16: mk_f32_to_bf16(values, half! + first * cols, n)
        case .f16: mk_f32_to_f16(values, half! + first * cols, n)
        case .q8_0, .q4_0, .q4_1:
            let format = storage.format, rowBytes = rowBytes
            withUnsafeTemporaryAllocation(byteCount: count * rowBytes, alignment: 64) { rowMajor in
                for r in 0..<count { mk_quantize_row(format, values + r * cols, rowMajor.baseAddress! + r * rowBytes, cols) }
                mk_quant_put_rows(format, rowMajor.baseAddress!, data, rows, cols, first, count)
            }
        }
    }

    public convenience init(rows: Int, cols: Int, values: UnsafePointer<Float>, storage: StorageType = .f32) {
        self.init(rows: rows, cols: cols, storage: storage)
        encodeRows(0, rows, from: values)
    }

    /// Fills the matrix block by block from `fill(firstRow, rowCount, out)`, which writes
    /// `rowCount * cols` floats; only one block of f32 exists at a time, so a bf16 matrix of a billion
    /// parameters never needs its f32 copy in memory. f32 storage is filled in one call, in place.
    /// `wholeTensor` asks for a single call covering every row (for readers that cannot start
    /// mid-tensor); other storage then converts from one temporary f32 copy.
    public convenience init(rows: Int, cols: Int, storage: StorageType, wholeTensor: Bool = false,
                            fill: (_ firstRow: Int, _ rowCount: Int, _ out: UnsafeMutablePointer<Float>) -> Void) {
        self.init(rows: rows, cols: cols, storage: storage)
        if storage == .f32 { fill(0, rows, f32!); return }
        let block = wholeTensor ? Swift.max(rows, 1) : Swift.max(1, Swift.min(rows, (1 << 20) / Swift.max(cols, 1)))
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: block * cols)
        defer { scratch.deallocate() }
        var r = 0
        while r < rows {
            let count = Swift.min(block, rows - r)
            fill(r, count, scratch)
            encodeRows(r, count, from: scratch)
            r += count
        }
    }

    /// A matrix whose values are `bytes` as they are, already in `storage`'s format (f32, bf16/f16 halves,
    /// or ggml blocks: `storage.bytes(rows * cols)` bytes): a copy, no conversion.
    public convenience init(rows: Int, cols: Int, storage: StorageType, copying bytes: UnsafeRawPointer) {
        self.init(rows: rows, cols: cols, storage: storage)
        if storage.isQuantized { mk_quant_put_rows(storage.format, bytes, data, rows, cols, 0, rows) }
        else { data.copyMemory(from: bytes, byteCount: storage.bytes(rows * cols)) }
    }

    /// Whether `data` is in ggml's order, row after row (f32, bf16, f16; not the row groups of q8_0, q4_0, q4_1).
    public var keepsGGMLOrder: Bool { !storage.isQuantized || mk_quant_grouped(storage.format) == 0 }

    /// Rows `[first, first + count)` as ggml writes them (`count * rowBytes` bytes, row after row), whatever
    /// the order `data` keeps them in: what a GGUF file holds.
    public func ggmlRows(_ first: Int, _ count: Int, into out: UnsafeMutableRawPointer) {
        if storage.isQuantized { mk_quant_get_rows(storage.format, data, out, rows, cols, first, count) }
        else { out.copyMemory(from: data + first * rowBytes, byteCount: count * rowBytes) }
    }

    public convenience init(rows: Int, cols: Int, values: [Float], storage: StorageType = .f32) {
        precondition(values.count == rows * cols, "WeightMatrix: \(values.count) values for [\(rows), \(cols)]")
        // The array's storage is only valid inside withUnsafeBufferPointer, so copy from within it.
        self.init(rows: rows, cols: cols, storage: storage) { first, count, out in
            values.withUnsafeBufferPointer { out.update(from: $0.baseAddress! + first * cols, count: count * cols) }
        }
    }

    deinit { mk_free(data) }

    /// A copy in `storage` (f32 where a quantized type cannot hold the rows), converted a block of rows at a time
    /// through f32; the bias is shared. Converting to the same type rounds again (see `quantize`).
    ///
    /// ```swift
    /// let q = w.converted(to: .q8_0)    // [rows, cols] in 34-byte blocks
    /// ```
    public func converted(to storage: StorageType) -> WeightMatrix {
        let copy = WeightMatrix(rows: rows, cols: cols, storage: storage.fitting(cols: cols)) { first, count, out in
            decodeRows(first, count, into: out)
        }
        copy.bias = bias
        return copy
    }

    public var byteCount: Int { storage.bytes(rows * cols) }

    /// Converts rows `[start, start + count)` into f32.
    public func decodeRows(_ start: Int, _ count: Int, into out: UnsafeMutablePointer<Float>) {
        let n = count * cols
        switch storage {
        case .f32: out.update(from: f32! + start * cols, count: n)
        case .bf16: mk_bf16_to_f32(half! + start * cols, out, n)
        case .f16: mk_f16_to_f32(half! + start * cols, out, n)
        case .q8_0, .q4_0, .q4_1: mk_dequantize_rows(storage.format, data, rows, cols, start, count, out)
        }
    }

    /// `decodeRows` split over the cores (the products that follow are too; one thread converting
    /// while the other waited held bf16 prefill at AVX2 to 370 tok/s for SmolLM2; split, about 600).
    func decodeRowsInParallel(_ start: Int, _ count: Int, into out: UnsafeMutablePointer<Float>) {
        let cols = cols
        Parallel.rows(count, workPerRow: cols) { r in
            decodeRows(start + r.lowerBound, r.count, into: out + r.lowerBound * cols)
        }
    }

    /// All values as f32.
    public func toFloat32() -> [Float] {
        [Float](unsafeUninitializedCapacity: rows * cols) { buf, count in
            decodeRows(0, rows, into: buf.baseAddress!)
            count = rows * cols
        }
    }

    /// Whether products in `precision` run on the bf16 units: bf16 weights, asked for, and the CPU has them.
    public func usesBF16Products(_ precision: ProductPrecision) -> Bool {
        precision == .bf16 && storage == .bf16 && WeightMatrix.bf16ProductsAvailable
    }

    /// The kernel level on this thread multiplies on AVX512-BF16 (`mk_gemm_bf16_*`): the CPU has it and
    /// neither `MEDREPL_ISA` nor `KernelLevel.with` lowered the level below `avx512bf16`.
    public static var bf16ProductsAvailable: Bool { mk_gemm_bf16_available() == 1 }

    /// Where bf16 products were asked for but the kernel level has none, one line saying how medrepl
    /// multiplies instead; nil where they run.
    public static var bf16FallbackNote: String? {
        if bf16ProductsAvailable { return nil }
        let why = KernelLevel.cpu < .avx512bf16 ? "this CPU has no AVX512-BF16" : "the kernel level is \(KernelLevel.current) (MEDREPL_ISA)"
        return "note: \(why), so bf16 products run in f32: the bf16 weights are widened to f32 in registers and the activations stay f32"
    }

    /// y[n, rows] = x[n, cols] · Wᵀ + bias (+ y when `accumulate`): `nn.Linear`'s forward.
    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, n: Int, accumulate: Bool = false,
                        precision: ProductPrecision = .f32) {
        product(x, into: y, n: n, accumulate: accumulate, precision: precision)
        guard let bias else { return }
        for i in 0..<n { vaxpy(1, bias.pointer, y + i * rows, rows) }
    }

    /// y[n, rows] = x[n, cols] · Wᵀ (+ y when `accumulate`), without the bias.
    func product(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, n: Int, accumulate: Bool,
                 precision: ProductPrecision) {
        if usesBF16Products(precision) {
            if n == 1 { bf16Matvec(x, into: y, accumulate: accumulate); return }
            if n > WeightMatrix.smallBatch && cols % 2 == 0 { bf16Forward(x, into: y, n: n, accumulate: accumulate); return }
        }
        if n <= WeightMatrix.smallBatch {
            // Decode: a few tokens. The weights stream once through registers, where sgemm would
            // first copy them into its packed layout, and OpenBLAS's thread pool stays asleep.
            WeightMatrix.smallProducts(x, n: n, [(self, y)], accumulate: accumulate)
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
            decodeRowsInParallel(r, count, into: scratch)
            BLAS.sgemm(transB: true, m: n, n: count, k: cols, a: x, b: scratch, beta: accumulate ? 1 : 0,
                       c: y + r, ldc: rows)
            r += count
        }
    }

    /// dx[n, cols] = dy[n, rows] · W (+ dx when `accumulate`): the input gradient of `forward`.
    public func backwardInput(_ dy: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, n: Int, accumulate: Bool = false,
                              precision: ProductPrecision = .f32) {
        if n > WeightMatrix.smallBatch && rows % 2 == 0 && usesBF16Products(precision) {
            bf16BackwardInput(dy, into: dx, n: n, accumulate: accumulate)
            return
        }
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
            decodeRowsInParallel(r, count, into: scratch)
            BLAS.sgemm(m: n, n: cols, k: count, a: dy + r, lda: rows, b: scratch, beta: first ? 0 : 1, c: dx)
            first = false
            r += count
        }
    }

    /// ys[j][n, ws[j].rows] = x[n, cols] · ws[j]ᵀ + bias for matrices that read the same input (q, k and v;
    /// gate and up): `forward` of each, the same bits. For a few inputs (decode) their rows run as one job
    /// over the cores, one start and one wait where each matrix had its own (SmolLM2 decodes with 4 jobs a
    /// layer instead of 7), and a quantized input is quantized once per activation format.
    ///
    /// ```swift
    /// WeightMatrix.forward(ln1, n: 1, [(wq, q), (wk, k), (wv, v)])
    /// ```
    public static func forward(_ x: UnsafePointer<Float>, n: Int, _ group: [(WeightMatrix, UnsafeMutablePointer<Float>)],
                               precision: ProductPrecision = .f32) {
        let cols = group.first?.0.cols ?? 0
        guard n <= smallBatch, group.count > 1,
              group.allSatisfy({ $0.0.cols == cols && !($0.0.usesBF16Products(precision) && n == 1) }) else {
            for (w, y) in group { w.forward(x, into: y, n: n, precision: precision) }
            return
        }
        smallProducts(x, n: n, group, accumulate: false)
        for (w, y) in group {
            guard let bias = w.bias else { continue }
            for i in 0..<n { vaxpy(1, bias.pointer, y + i * w.rows, w.rows) }
        }
    }

    /// ys[j][n, ws[j].rows] (+)= x[n, cols] · ws[j]ᵀ for a few rows of x (n ≤ `smallBatch`) and matrices of
    /// `cols` columns: each weight row is loaded (widened) in registers and used for all n inputs, so the
    /// weights are read once and no scratch is allocated. The matrices' rows, stacked, are split over the
    /// cores in one job. A quantized matrix multiplies x quantized per block to 8 bits (ggml's way: Q8_1
    /// for Q4_1, else Q8_0), once per format for the group, with integer products.
    static func smallProducts(_ x: UnsafePointer<Float>, n: Int, _ group: [(WeightMatrix, UnsafeMutablePointer<Float>)],
                              accumulate: Bool) {
        let cols = group[0].0.cols
        // x quantized for each activation format the group's quantized matrices take: Q8_0, then Q8_1
        let formats = [Int32(MK_WEIGHT_Q8_0), Int32(MK_WEIGHT_Q8_1)]
        let bytes = formats.map { format in
            group.contains { $0.0.storage.isQuantized && mk_quant_activation_format($0.0.storage.format) == format }
                ? (mk_quant_activations_bytes(format, cols, n) + 63) / 64 * 64 : 0 }
        let q8_1At = bytes[0]   // where the Q8_1 activations start
        withUnsafeTemporaryAllocation(byteCount: Swift.max(bytes[0] + bytes[1], 1), alignment: 64) { buffer in
            let xq = buffer.baseAddress!
            for k in formats.indices where bytes[k] > 0 {
                mk_quantize_activations(formats[k], x, n, cols, xq + (k == 0 ? 0 : q8_1At))
            }
            let quantized = UnsafeRawPointer(xq)
            let total = group.reduce(0) { $0 + $1.0.rows }
            // the cores take whole groups of eight rows, as quantized matrices keep them (a group cut in two
            // would be computed by both)
            let unit = group.contains { $0.0.storage.isQuantized } ? 8 : 1
            Parallel.rows((total + unit - 1) / unit, workPerRow: cols * n * unit) { units in
                let range = (units.lowerBound * unit)..<Swift.min(units.upperBound * unit, total)
                var first = 0   // row of the stacked matrices where this matrix starts
                for (w, y) in group {
                    let begin = Swift.max(range.lowerBound - first, 0), end = Swift.min(range.upperBound - first, w.rows)
                    first += w.rows
                    guard begin < end else { continue }
                    let data = UnsafeRawPointer(w.data), format = w.storage.format
                    if w.storage.isQuantized {
                        let activation = quantized + (mk_quant_activation_format(format) == formats[1] ? q8_1At : 0)
                        mk_matmul_q_small(data, format, activation, y, w.rows, cols, n, begin, end, accumulate ? 1 : 0)
                    } else {
                        mk_matmul_nt_small(data, format, x, y, w.rows, cols, n, begin, end, accumulate ? 1 : 0)
                    }
                }
            }
        }
    }

    /// `forward` on AVX512-BF16: x rounded to bf16 once, then strips of 32 weight rows (y's columns) over the cores.
    func bf16Forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, n: Int, accumulate: Bool) {
        let rows = rows, cols = cols, w = half!
        bf16Strips(x, count: n * cols, outputColumns: rows, reduction: cols, n: n) { xb, first, end in
            mk_gemm_bf16_nt(w, xb, y, n, cols, rows, first, end, accumulate ? 1 : 0)
        }
    }

    /// `backwardInput` on AVX512-BF16: dy rounded to bf16 once, then strips of 32 input columns over the cores.
    func bf16BackwardInput(_ dy: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, n: Int, accumulate: Bool) {
        let rows = rows, cols = cols, w = half!
        bf16Strips(dy, count: n * rows, outputColumns: cols, reduction: rows, n: n) { dyb, first, end in
            mk_gemm_bf16_nn(w, dyb, dx, n, rows, cols, first, end, accumulate ? 1 : 0)
        }
    }

    /// The decode product of one input in bf16 arithmetic: x rounded to bf16, rows split over the cores.
    /// (2 to 8 inputs stay on the f32 widening product, which was faster for them.)
    func bf16Matvec(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let cols = cols, w = half!
        withUnsafeTemporaryAllocation(of: UInt16.self, capacity: cols) { xb in
            mk_f32_to_bf16(x, xb.baseAddress!, cols)
            let converted = UnsafePointer(xb.baseAddress!)
            Parallel.rows(rows, workPerRow: cols) { range in
                mk_matvec_bf16(w, converted, y, cols, range.lowerBound, range.upperBound, accumulate ? 1 : 0)
            }
        }
    }

    /// Rounds `operand[count]` to bf16 once, then calls `strips(operand in bf16, first column, end column)`
    /// for ranges of whole 32-column strips of the output, spread over the cores.
    private func bf16Strips(_ operand: UnsafePointer<Float>, count: Int, outputColumns: Int, reduction: Int, n: Int,
                            _ strips: (UnsafePointer<UInt16>, Int, Int) -> Void) {
        BF16Scratch.with(count: count) { converted in
            convertToBF16(operand, converted, count)
            Parallel.rows((outputColumns + 31) / 32, workPerRow: 64 * n * reduction) { range in
                strips(converted, range.lowerBound * 32, Swift.min(outputColumns, range.upperBound * 32))
            }
        }
    }

    /// f32 -> bf16 over the cores.
    private func convertToBF16(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, _ count: Int) {
        let block = 1 << 14
        Parallel.rows((count + block - 1) / block, workPerRow: block) { r in
            let lo = r.lowerBound * block, hi = Swift.min(count, r.upperBound * block)
            mk_f32_to_bf16(src + lo, dst + lo, hi - lo)
        }
    }
}

/// One reusable buffer for the bf16 copy of a product's activations: a fresh allocation of tens of MiB per
/// product would be faulted in page by page every time. A second thread that finds it in use gets a
/// buffer of its own for that call.
enum BF16Scratch {
    nonisolated(unsafe) static var buffer: UnsafeMutablePointer<UInt16>?
    nonisolated(unsafe) static var capacity = 0
    static let lock = NSLock()

    static func with(count: Int, _ body: (UnsafeMutablePointer<UInt16>) -> Void) {
        guard lock.try() else {
            let own = UnsafeMutablePointer<UInt16>.allocate(capacity: Swift.max(count, 1))
            defer { own.deallocate() }
            body(own)
            return
        }
        defer { lock.unlock() }
        if capacity < count {
            buffer?.deallocate()
            buffer = .allocate(capacity: count)
            capacity = count
        }
        body(buffer!)
    }
}

import CKernels

/// Conversion of ggml tensor data to f32, one block format at a time.
///
/// Block layouts (little-endian, `d`/`m`/`dmin` are IEEE halves):
/// - Q8_0 `[d, qs: 32 × i8]`: x = d·q
/// - Q4_0 `[d, qs: 16 bytes]`: x = d·(q − 8), low nibbles are values 0..<16, high nibbles 16..<32
/// - Q4_1 `[d, m, qs: 16 bytes]`: x = d·q + m, same nibble order (these three by CKernels' quant.c, which also keeps them)
/// - Q5_0 `[d, qh: u32, qs: 16 bytes]`: the fifth bit of value j is bit j of qh; x = d·(q − 16)
/// - Q5_1 `[d, m, qh, qs]`: x = d·q + m
/// - Q4_K (256 values) `[d, dmin, scales: 12 bytes of packed 6-bit (scale, min) × 8, qs: 128 bytes]`:
///   eight sub-blocks of 32; x = d·sc·q − dmin·mn
/// - Q6_K (256 values) `[ql: 128, qh: 64, scales: 16 × i8, d]`: 6-bit q = low 4 bits from ql, high 2 from qh;
///   x = d·scale·(q − 32), sixteen sub-blocks of 16
///
/// ```swift
/// try GGMLDequantize.convert(.Q4_1, src, count: 576, into: out)
/// ```
public enum GGMLDequantize {
    /// Converts `count` values (a multiple of the type's block size) starting at `src`, which must hold
    /// `type.rowBytes(count)` bytes. Throws for a partial block and for types recognised but not implemented.
    public static func convert(_ type: GGMLType, _ src: UnsafeRawPointer, count: Int,
                               into out: UnsafeMutablePointer<Float>) throws {
        guard count >= 0, count % type.blockSize == 0 else {
            throw WeightsError(file: "ggml", field: type.name, "\(count) values are not whole blocks of \(type.blockSize)")
        }
        let blocks = count / type.blockSize
        switch type.id {
        case GGMLType.F32.id:
            UnsafeMutableRawPointer(out).copyMemory(from: src, byteCount: count * 4)
        case GGMLType.F16.id:
            convertToFloat(.F16, src, count: count, into: out)
        case GGMLType.BF16.id:
            convertToFloat(.BF16, src, count: count, into: out)
        case GGMLType.F64.id:
            for i in 0..<count { out[i] = Float(src.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)) }
        case GGMLType.I8.id:
            for i in 0..<count { out[i] = Float(src.load(fromByteOffset: i, as: Int8.self)) }
        case GGMLType.I16.id:
            for i in 0..<count { out[i] = Float(src.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)) }
        case GGMLType.I32.id:
            for i in 0..<count { out[i] = Float(src.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)) }
        case GGMLType.I64.id:
            for i in 0..<count { out[i] = Float(src.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)) }
        case GGMLType.Q8_0.id:   // the formats medrepl also keeps: CKernels' quant.c, one definition
            mk_dequantize_row(Int32(MK_WEIGHT_Q8_0), src, out, count)
        case GGMLType.Q4_0.id:
            mk_dequantize_row(Int32(MK_WEIGHT_Q4_0), src, out, count)
        case GGMLType.Q4_1.id:
            mk_dequantize_row(Int32(MK_WEIGHT_Q4_1), src, out, count)
        case GGMLType.Q5_0.id:
            for b in 0..<blocks { q5(src + b * 22, out + b * 32, hasMin: false) }
        case GGMLType.Q5_1.id:
            for b in 0..<blocks { q5(src + b * 24, out + b * 32, hasMin: true) }
        case GGMLType.Q4_K.id:
            for b in 0..<blocks { q4_K(src + b * 144, out + b * 256) }
        case GGMLType.Q6_K.id:
            for b in 0..<blocks { q6_K(src + b * 210, out + b * 256) }
        default:
            throw WeightsError(file: "ggml", field: type.name, "dequantization of \(type.name) is not supported")
        }
    }

    @inline(__always)
    static func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
        Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }

    @inline(__always)
    static func q5(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>, hasMin: Bool) {
        let d = half(block, 0)
        let m: Float = hasMin ? half(block, 2) : 0
        let header = hasMin ? 4 : 2
        let qh = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: header, as: UInt32.self))
        let offset = hasMin ? 0 : 16
        for j in 0..<16 {
            let q = UInt32(block.load(fromByteOffset: header + 4 + j, as: UInt8.self))
            let lo = (q & 0x0F) | (((qh >> UInt32(j)) & 1) << 4)
            let hi = (q >> 4) | (((qh >> UInt32(j + 16)) & 1) << 4)
            y[j] = d * Float(Int(lo) - offset) + m
            y[j + 16] = d * Float(Int(hi) - offset) + m
        }
    }

    /// The 6-bit (scale, min) pair of sub-block `j` from Q4_K's 12 packed bytes: sub-blocks 0..<4 use the
    /// low 6 bits of bytes j and j+4; 4..<8 take 4 low bits from byte j+4 and 2 high bits from the tops of bytes j−4 and j.
    @inline(__always)
    static func scaleMin(_ j: Int, _ s: UnsafeRawPointer) -> (Float, Float) {
        func b(_ i: Int) -> UInt8 { s.load(fromByteOffset: i, as: UInt8.self) }
        if j < 4 { return (Float(b(j) & 63), Float(b(j + 4) & 63)) }
        let sc = (b(j + 4) & 0x0F) | ((b(j - 4) >> 6) << 4)
        let mn = (b(j + 4) >> 4) | ((b(j) >> 6) << 4)
        return (Float(sc), Float(mn))
    }

    static func q4_K(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(block, 0), dmin = half(block, 2)
        let scales = block + 4
        let qs = block + 16
        // Four groups of 64 values: 32 bytes of nibbles, low nibbles first (sub-block 2g), then high (2g+1).
        for g in 0..<4 {
            let (sc0, m0) = scaleMin(2 * g, scales)
            let (sc1, m1) = scaleMin(2 * g + 1, scales)
            let d0 = d * sc0, min0 = dmin * m0, d1 = d * sc1, min1 = dmin * m1
            let q = qs + 32 * g
            let out = y + 64 * g
            for l in 0..<32 {
                let byte = q.load(fromByteOffset: l, as: UInt8.self)
                out[l] = d0 * Float(byte & 0x0F) - min0
                out[l + 32] = d1 * Float(byte >> 4) - min1
            }
        }
    }

    static func q6_K(_ block: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(block, 208)
        // Two halves of 128 values: 64 bytes of ql, 32 of qh, 8 scales each.
        for h in 0..<2 {
            let ql = block + 64 * h
            let qh = block + 128 + 32 * h
            let sc = block + 192 + 8 * h
            let out = y + 128 * h
            for l in 0..<32 {
                let s = l / 16
                let lo0 = ql.load(fromByteOffset: l, as: UInt8.self)
                let lo1 = ql.load(fromByteOffset: l + 32, as: UInt8.self)
                let hi = qh.load(fromByteOffset: l, as: UInt8.self)
                let q1 = Int((lo0 & 0x0F) | ((hi & 3) << 4)) - 32
                let q2 = Int((lo1 & 0x0F) | (((hi >> 2) & 3) << 4)) - 32
                let q3 = Int((lo0 >> 4) | (((hi >> 4) & 3) << 4)) - 32
                let q4 = Int((lo1 >> 4) | (((hi >> 6) & 3) << 4)) - 32
                out[l] = d * Float(sc.load(fromByteOffset: s, as: Int8.self)) * Float(q1)
                out[l + 32] = d * Float(sc.load(fromByteOffset: s + 2, as: Int8.self)) * Float(q2)
                out[l + 64] = d * Float(sc.load(fromByteOffset: s + 4, as: Int8.self)) * Float(q3)
                out[l + 96] = d * Float(sc.load(fromByteOffset: s + 6, as: Int8.self)) * Float(q4)
            }
        }
    }
}

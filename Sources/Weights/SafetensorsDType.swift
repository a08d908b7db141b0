import CKernels
import Foundation

/// The element types a `.safetensors` file can hold, with the spelling of its JSON header.
///
/// `rank` is the order of the `safetensors` library's dtype enum; its writer places bigger ranks
/// first (which keeps wide types naturally aligned), and so does `SafetensorsWriter`.
///
/// ```swift
/// SafetensorsDType(rawValue: "BF16")?.size   // 2
/// ```
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case BOOL, U8, I8, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .BOOL, .U8, .I8: return 1
        case .I16, .U16, .F16, .BF16: return 2
        case .I32, .U32, .F32: return 4
        case .F64, .I64, .U64: return 8
        }
    }

    /// Position in the `safetensors` library's dtype enum (its writer sorts by it, descending).
    public var rank: Int { Self.allCases.firstIndex(of: self)! }
}

/// Converts `count` little-endian elements of `dtype` at `src` to f32 (integers and booleans by value).
///
/// ```swift
/// convertToFloat(.BF16, raw.baseAddress!, count: n, into: out)
/// ```
public func convertToFloat(_ dtype: SafetensorsDType, _ src: UnsafeRawPointer, count: Int,
                           into out: UnsafeMutablePointer<Float>) {
    // Unaligned loads: a tensor's offset in the file need not be a multiple of its element size.
    switch dtype {
    case .F32:
        UnsafeMutableRawPointer(out).copyMemory(from: src, byteCount: count * 4)
    case .F16 where Int(bitPattern: src) % 2 == 0:
        mk_f16_to_f32(src.assumingMemoryBound(to: UInt16.self), out, count)     // vectorized C loop
    case .BF16 where Int(bitPattern: src) % 2 == 0:
        mk_bf16_to_f32(src.assumingMemoryBound(to: UInt16.self), out, count)
    case .F16:
        for i in 0..<count { out[i] = Float(Float16(bitPattern: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
    case .BF16:
        for i in 0..<count { out[i] = Float(bitPattern: UInt32(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16) }
    case .F64:
        for i in 0..<count { out[i] = Float(src.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)) }
    case .BOOL:
        for i in 0..<count { out[i] = src.load(fromByteOffset: i, as: UInt8.self) != 0 ? 1 : 0 }
    case .U8:
        for i in 0..<count { out[i] = Float(src.load(fromByteOffset: i, as: UInt8.self)) }
    case .I8:
        for i in 0..<count { out[i] = Float(src.load(fromByteOffset: i, as: Int8.self)) }
    case .I16:
        for i in 0..<count { out[i] = Float(src.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)) }
    case .U16:
        for i in 0..<count { out[i] = Float(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
    case .I32:
        for i in 0..<count { out[i] = Float(src.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)) }
    case .U32:
        for i in 0..<count { out[i] = Float(src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
    case .I64:
        for i in 0..<count { out[i] = Float(src.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)) }
    case .U64:
        for i in 0..<count { out[i] = Float(src.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)) }
    }
}

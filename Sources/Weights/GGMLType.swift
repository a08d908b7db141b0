/// A ggml tensor element type: its id in GGUF files, name, and block layout.
///
/// Quantized types store `blockSize` values in `typeSize` bytes; a row's length (`ne[0]`) must be
/// a multiple of `blockSize`. Only some types can be dequantized (`isDequantizable`); the others
/// are recognised so a file using them opens and reports which tensor cannot be read.
///
/// ```swift
/// let q = GGMLType(id: 3)!           // Q4_1
/// q.rowBytes(576)                     // 18 blocks × 20 bytes = 360
/// ```
public struct GGMLType: Sendable, Equatable, Hashable, CustomStringConvertible {
    public let id: UInt32
    public let name: String
    /// Values per block (1 for plain types).
    public let blockSize: Int
    /// Bytes per block.
    public let typeSize: Int

    public static let F32 = GGMLType(0, "F32", 1, 4)
    public static let F16 = GGMLType(1, "F16", 1, 2)
    public static let Q4_0 = GGMLType(2, "Q4_0", 32, 18)
    public static let Q4_1 = GGMLType(3, "Q4_1", 32, 20)
    public static let Q5_0 = GGMLType(6, "Q5_0", 32, 22)
    public static let Q5_1 = GGMLType(7, "Q5_1", 32, 24)
    public static let Q8_0 = GGMLType(8, "Q8_0", 32, 34)
    public static let Q4_K = GGMLType(12, "Q4_K", 256, 144)
    public static let Q6_K = GGMLType(14, "Q6_K", 256, 210)
    public static let I8 = GGMLType(24, "I8", 1, 1)
    public static let I16 = GGMLType(25, "I16", 1, 2)
    public static let I32 = GGMLType(26, "I32", 1, 4)
    public static let I64 = GGMLType(27, "I64", 1, 8)
    public static let F64 = GGMLType(28, "F64", 1, 8)
    public static let BF16 = GGMLType(30, "BF16", 1, 2)

    /// Every type ggml defines (as of GGUF v3), dequantizable or not.
    public static let all: [GGMLType] = [
        F32, F16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, GGMLType(9, "Q8_1", 32, 40),
        GGMLType(10, "Q2_K", 256, 84), GGMLType(11, "Q3_K", 256, 110), Q4_K, GGMLType(13, "Q5_K", 256, 176), Q6_K,
        GGMLType(15, "Q8_K", 256, 292), GGMLType(16, "IQ2_XXS", 256, 66), GGMLType(17, "IQ2_XS", 256, 74),
        GGMLType(18, "IQ3_XXS", 256, 98), GGMLType(19, "IQ1_S", 256, 50), GGMLType(20, "IQ4_NL", 32, 18),
        GGMLType(21, "IQ3_S", 256, 110), GGMLType(22, "IQ2_S", 256, 82), GGMLType(23, "IQ4_XS", 256, 136),
        I8, I16, I32, I64, F64, GGMLType(29, "IQ1_M", 256, 56), BF16,
        GGMLType(34, "TQ1_0", 256, 54), GGMLType(35, "TQ2_0", 256, 66), GGMLType(39, "MXFP4", 32, 17),
    ]

    private init(_ id: UInt32, _ name: String, _ blockSize: Int, _ typeSize: Int) {
        self.id = id; self.name = name; self.blockSize = blockSize; self.typeSize = typeSize
    }

    /// The type with this id, or nil when ggml defines none.
    public init?(id: UInt32) {
        guard let t = Self.all.first(where: { $0.id == id }) else { return nil }
        self = t
    }

    /// Bytes of one row of `n` values (`n` a multiple of `blockSize`).
    public func rowBytes(_ n: Int) -> Int { n / blockSize * typeSize }

    /// Whether `GGMLDequantize` can convert this type to f32.
    public var isDequantizable: Bool {
        [0, 1, 2, 3, 6, 7, 8, 12, 14, 24, 25, 26, 27, 28, 30].contains(id)
    }

    public var description: String { name }
}

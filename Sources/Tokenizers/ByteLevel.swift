/// GPT-2's reversible byte <-> character mapping used by byte-level BPE vocabularies.
///
/// Printable Latin-1 bytes (`!`..`~`, `¡`..`¬`, `®`..`ÿ`) stand for themselves; the other 68 bytes
/// (controls, space, soft hyphen) are moved to U+0100 and up in byte order, so a space is `Ġ` (U+0120)
/// and a newline `Ċ` (U+010A).
/// ```swift
/// ByteLevel.character(for: 0x20)     // "Ġ"
/// ByteLevel.byte(for: "Ġ")           // 0x20
/// ```
public enum ByteLevel {
    /// `[256]`: the character standing for each byte.
    public static let characters: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
            if printable {
                table[b] = Unicode.Scalar(UInt32(b))!
            } else {
                table[b] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// Inverse table indexed by scalar value (all mapped scalars are below 324); -1 = not a byte character.
    static let bytesByScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 324)
        for b in 0..<256 { table[Int(characters[b].value)] = Int16(b) }
        return table
    }()

    public static func character(for byte: UInt8) -> Unicode.Scalar { characters[Int(byte)] }

    /// The byte a character stands for, or nil when it is not one of the 256 byte characters.
    public static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let v = Int(scalar.value)
        guard v < bytesByScalar.count, bytesByScalar[v] >= 0 else { return nil }
        return UInt8(bytesByScalar[v])
    }

    /// The raw bytes a byte-level vocabulary string stands for, or nil if it has a non-byte character.
    public static func bytes(of token: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(token.unicodeScalars.count)
        for s in token.unicodeScalars {
            guard let b = byte(for: s) else { return nil }
            out.append(b)
        }
        return out
    }

    /// The vocabulary string for raw bytes: `encode([0x20, 0x68, 0x69]) == "Ġhi"`.
    public static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(characters[Int(b)]) }
        return String(s)
    }
}

import Foundation

/// JSON string literals written the way Python's `json` module writes them, so files medrepl shares
/// with Python tools (safetensors headers, peft configs, datasets) read and diff the same.
///
/// ```swift
/// JSONString.quoted("dose\n5 µg")                   // "dose\n5 µg"      (ensure_ascii=False)
/// JSONString.quoted("dose\n5 µg", asciiOnly: true)  // "dose\n5 \u00b5g" (ensure_ascii=True)
/// ```
public enum JSONString {
    /// `s` as a JSON string literal: quote, backslash and control characters escaped; with
    /// `asciiOnly`, every scalar outside printable ASCII as `\uXXXX` (a surrogate pair above U+FFFF).
    public static func quoted(_ s: String, asciiOnly: Bool = false) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where u.value < 0x20 || (asciiOnly && u.value > 0x7E):
                if u.value > 0xFFFF {
                    let v = u.value - 0x10000
                    out += String(format: "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF))
                } else {
                    out += String(format: "\\u%04x", u.value)
                }
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}

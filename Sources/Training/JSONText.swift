import Foundation

/// JSON text as Python's `json.dumps(value, indent=2, sort_keys=True)` writes it, so files medrepl writes
/// (adapter_config.json, trainer_state.json) look like the ones transformers and peft write.
enum JSONText {
    static func encode(_ value: Any?, indent: Int = 0) -> String {
        let pad = String(repeating: " ", count: indent), inner = String(repeating: " ", count: indent + 2)
        switch value {
        case nil, is NSNull: return "null"
        case let b as Bool: return b ? "true" : "false"
        case let i as Int: return String(i)
        case let d as Double: return number(d)
        case let f as Float: return number(Double(f))
        case let s as String: return quote(s)
        case let a as [Any?]:
            if a.isEmpty { return "[]" }
            return "[\n" + a.map { inner + encode($0, indent: indent + 2) }.joined(separator: ",\n") + "\n" + pad + "]"
        case let d as [String: Any?]:
            if d.isEmpty { return "{}" }
            return "{\n" + d.keys.sorted().map { inner + quote($0) + ": " + encode(d[$0] ?? nil, indent: indent + 2) }
                .joined(separator: ",\n") + "\n" + pad + "}"
        default: return quote("\(value!)")
        }
    }

    /// Python's repr of a float: integral values keep ".0"; others use the shortest round-trip digits.
    static func number(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d > 0 ? "Infinity" : "-Infinity" }
        if d == d.rounded(), abs(d) < 1e16 { return String(format: "%.1f", d) }
        return "\(d)"
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 || u.value > 0x7E {
                    if u.value > 0xFFFF {
                        let v = u.value - 0x10000
                        out += String(format: "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF))
                    } else {
                        out += String(format: "\\u%04x", u.value)
                    }
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}

import Foundation
import Weights

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
        case let s as String: return JSONString.quoted(s, asciiOnly: true)
        case let a as [Any?]:
            if a.isEmpty { return "[]" }
            return "[\n" + a.map { inner + encode($0, indent: indent + 2) }.joined(separator: ",\n") + "\n" + pad + "]"
        case let d as [String: Any?]:
            if d.isEmpty { return "{}" }
            return "{\n" + d.keys.sorted().map { inner + JSONString.quoted($0, asciiOnly: true) + ": " + encode(d[$0] ?? nil, indent: indent + 2) }
                .joined(separator: ",\n") + "\n" + pad + "}"
        default: return JSONString.quoted("\(value!)", asciiOnly: true)
        }
    }

    /// Python's repr of a float: integral values keep ".0"; others use the shortest round-trip digits.
    static func number(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d > 0 ? "Infinity" : "-Infinity" }
        if d == d.rounded(), abs(d) < 1e16 { return String(format: "%.1f", d) }
        return "\(d)"
    }
}

import Foundation

/// JSON text written the way Python's `json` module writes it, so files medrepl shares with Python tools
/// (safetensors headers, peft configs, trainer states, evaluation results, datasets) read and diff the same.
///
/// `encode` lays a value out as `json.dumps(value, indent=2, sort_keys=True)` does; an `Ordered` object keeps
/// its keys in the order given, as `json.dump` without `sort_keys` does. `quoted` and `number` are the string
/// and float literals on their own, for writers with a layout of their own (a safetensors header on one line).
///
/// ```swift
/// JSONText.encode(["r": 16, "target_modules": ["q_proj", "v_proj"]])
/// // {\n  "r": 16,\n  "target_modules": [\n    "q_proj",\n    "v_proj"\n  ]\n}
/// JSONText.encode(JSONText.Ordered([("total", 20), ("accuracy", 30.0)]))   // {\n  "total": 20,\n  "accuracy": 30.0\n}
/// JSONText.quoted("dose\n5 µg")                   // "dose\n5 µg"      (ensure_ascii=False)
/// JSONText.quoted("dose\n5 µg", asciiOnly: true)  // "dose\n5 \u00b5g" (ensure_ascii=True)
/// JSONText.number(25)                             // 25.0
/// ```
public enum JSONText {
    /// A JSON object whose keys are written in the order given, not sorted.
    public struct Ordered {
        public var pairs: [(key: String, value: Any?)]
        public init(_ pairs: [(key: String, value: Any?)]) { self.pairs = pairs }
    }

    /// `value` as indented JSON text (two spaces a level, `indent` spaces before the first): dictionaries with
    /// their keys sorted, `Ordered` objects in their order, strings ASCII-only (`ensure_ascii=True`), floats
    /// as `number` writes them, nil and `NSNull` as `null`; anything else as the quoted text of its description.
    public static func encode(_ value: Any?, indent: Int = 0) -> String {
        let pad = String(repeating: " ", count: indent), inner = String(repeating: " ", count: indent + 2)
        func object(_ pairs: [(key: String, value: Any?)]) -> String {
            if pairs.isEmpty { return "{}" }
            return "{\n" + pairs.map { inner + quoted($0.key, asciiOnly: true) + ": " + encode($0.value, indent: indent + 2) }
                .joined(separator: ",\n") + "\n" + pad + "}"
        }
        switch value {
        case nil, is NSNull: return "null"
        case let b as Bool: return b ? "true" : "false"
        case let i as Int: return String(i)
        case let d as Double: return number(d)
        case let f as Float: return number(Double(f))
        case let s as String: return quoted(s, asciiOnly: true)
        case let o as Ordered: return object(o.pairs)
        case let a as [Any?]:
            if a.isEmpty { return "[]" }
            return "[\n" + a.map { inner + encode($0, indent: indent + 2) }.joined(separator: ",\n") + "\n" + pad + "]"
        case let d as [String: Any?]:
            return object(d.keys.sorted().map { ($0, d[$0] ?? nil) })
        default: return quoted("\(value!)", asciiOnly: true)
        }
    }

    /// Python's repr of a float: integral values keep ".0"; others use the shortest round-trip digits;
    /// `NaN`, `Infinity` and `-Infinity` as Python's `json` writes them.
    public static func number(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d > 0 ? "Infinity" : "-Infinity" }
        if d == d.rounded(), abs(d) < 1e16 { return String(format: "%.1f", d) }
        return "\(d)"
    }

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

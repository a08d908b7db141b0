import Foundation
import Support

/// A value of the command language: what a verb receives, returns, and what a name holds.
///
/// ```swift
/// let v: Value = .list([.int(1), .double(2e-4), .string("q")])
/// print(v.display)          // [1, 0.0002, "q"]
/// ```
public enum Value {
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([Value])
    /// A live engine object (model, dataset, trainer, ...), shared by reference.
    case object(LiveObject)

    /// The name of this value's type, as shown in messages and `vars`.
    public var typeName: String {
        switch self {
        case .none: return "none"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "string"
        case .list: return "list"
        case .object(let o): return o.typeName
        }
    }

    /// How the value is written back in the language (strings quoted, floats shortest round-trip).
    ///
    /// Objects show as `<Type: summary>`, which does not parse back: they are not literals.
    public var display: String {
        switch self {
        case .none: return "none"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return Value.format(d)
        case .string(let s): return Value.quote(s)
        case .list(let xs): return "[" + xs.map(\.display).joined(separator: ", ") + "]"
        case .object(let o): return "<\(o.typeName): \(o.summary)>"
        }
    }

    /// The text a verb like `print` writes: strings bare, everything else as `display`.
    public var text: String {
        if case .string(let s) = self { return s }
        if case .object(let o) = self { return o.summary }
        return display
    }

    /// A float written so it reads back exactly and stays short (`2e-04` is `0.0002`, `1.0` stays `1.0`).
    public static func format(_ d: Double) -> String { SettingValue.format(d) }

    /// A string as a double-quoted literal with the language's escapes.
    public static func quote(_ s: String) -> String {
        var out = "\""
        let scalars = Array(s.unicodeScalars)
        for (i, ch) in scalars.enumerated() {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "$" where i + 1 < scalars.count && scalars[i + 1] == "{": out += "\\$"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out + "\""
    }

    /// The number as a Double when the value is an int or a float.
    public var number: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }
}

extension Value: Equatable {
    /// Equality as `check ==` sees it: ints and floats compare by number, objects by identity.
    public static func == (a: Value, b: Value) -> Bool {
        switch (a, b) {
        case (.none, .none): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.list(let x), .list(let y)): return x == y
        case (.object(let x), .object(let y)): return x === y
        default:
            if let x = a.number, let y = b.number { return x == y }
            return false
        }
    }
}

extension Value: CustomStringConvertible {
    public var description: String { display }
}

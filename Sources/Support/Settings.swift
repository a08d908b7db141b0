import Foundation

// Settings declared once. An engine settings type (TrainingArguments, LoraConfig) lists its fields in one
// table: name, type (from the property), range, help. Its validation, its JSON, the notebook verb's
// parameters, `show`, the field access `args.learning_rate` and docs/language.md all read that table, so a new
// setting is written where it is declared and where it is used, nowhere else.
//
//     public static let settings = SettingsTable<TrainingArguments>([
//         Setting("learning_rate", \.learning_rate, .finiteNonNegative, help: "peak AdamW learning rate"),
//         Setting("warmup_steps", \.warmup_steps, .nonNegative, help: "linear warmup steps, then linear decay to 0"),
//     ])
//     try TrainingArguments.settings.check(args)        // "warmup_steps must be >= 0, got -1"

/// A setting's value as the table reads and writes it.
public enum SettingValue: Sendable, Equatable, CustomStringConvertible {
    case int(Int)
    case double(Double)
    case bool(Bool)
    case string(String)
    case strings([String])
    /// An optional setting that is not set (`save_total_limit`: keep all).
    case none

    public var description: String {
        switch self {
        case .int(let i): return String(i)
        case .double(let d): return SettingValue.format(d)
        case .bool(let b): return b ? "true" : "false"
        case .string(let s): return s
        case .strings(let a): return "[" + a.joined(separator: ", ") + "]"
        case .none: return "none"
        }
    }

    /// A number as medrepl writes it everywhere: `2.0`, `0.0002`, `1e-8`, `nan`, `inf`.
    public static func format(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d > 0 ? "inf" : "-inf" }
        if d == d.rounded(), abs(d) < 1e15 { return String(format: "%.1f", d) }
        // Swift writes 1e-06; medrepl writes 1e-6.
        return "\(d)".replacingOccurrences(of: "e-0", with: "e-").replacingOccurrences(of: "e+", with: "e")
    }

    /// The value as JSON-ready Swift (`Int`, `Double`, `Bool`, `String`, `[String]`, nil).
    public var json: Any? {
        switch self {
        case .int(let i): return i
        case .double(let d): return d
        case .bool(let b): return b
        case .string(let s): return s
        case .strings(let a): return a
        case .none: return nil
        }
    }
}

/// The kind of value a setting holds, as a verb parameter accepts it.
public enum SettingKind: Sendable, Equatable {
    case int, double, bool, string, strings
    /// A file or folder (a string; the notebook resolves it against the session's folder).
    case path
    /// One of fixed words.
    case choice([String])
}

/// The values a setting allows; `phrase` completes "NAME must be …".
public struct SettingRange: Sendable {
    public let phrase: String
    public let contains: @Sendable (SettingValue) -> Bool
    public init(_ phrase: String, contains: @escaping @Sendable (SettingValue) -> Bool) {
        self.phrase = phrase; self.contains = contains
    }

    /// An integer above 0.
    public static let positiveInteger = SettingRange("a positive integer") { if case .int(let i) = $0 { return i > 0 }; return false }
    /// An integer of 0 or more.
    public static let nonNegative = SettingRange(">= 0") { if case .int(let i) = $0 { return i >= 0 }; return false }
    /// A finite number above 0.
    public static let positive = SettingRange("a positive number") { number($0).map { $0 > 0 && $0.isFinite } ?? false }
    /// A finite number of 0 or more.
    public static let finiteNonNegative = SettingRange("a finite number >= 0") { number($0).map { $0 >= 0 && $0.isFinite } ?? false }
    /// A probability that is not 1: 0 ≤ p < 1.
    public static let belowOne = SettingRange("in [0, 1)") { number($0).map { $0 >= 0 && $0 < 1 } ?? false }
    /// A share of probability mass: 0 < p ≤ 1.
    public static let probability = SettingRange("in (0, 1]") { number($0).map { $0 > 0 && $0 <= 1 } ?? false }
    /// A list with at least one entry.
    public static let nonEmpty = SettingRange("a list of at least one name") { if case .strings(let a) = $0 { return !a.isEmpty }; return false }

    static func number(_ v: SettingValue) -> Double? {
        switch v { case .int(let i): return Double(i); case .double(let d): return d; default: return nil }
    }
}

/// A value outside its setting's range, or settings that do not go together; `name` is the setting to change.
public struct SettingError: Error, CustomStringConvertible, LocalizedError {
    public let name: String
    public let description: String
    public init(_ name: String, _ description: String) { self.name = name; self.description = description }
    public var errorDescription: String? { description }
}

/// A Swift type a setting can hold.
public protocol SettingRepresentable {
    static var settingKind: SettingKind { get }
    var settingValue: SettingValue { get }
    init?(settingValue: SettingValue)
}

extension Int: SettingRepresentable {
    public static var settingKind: SettingKind { .int }
    public var settingValue: SettingValue { .int(self) }
    public init?(settingValue v: SettingValue) { guard case .int(let i) = v else { return nil }; self = i }
}
extension UInt64: SettingRepresentable {
    public static var settingKind: SettingKind { .int }
    public var settingValue: SettingValue { .int(Int(truncatingIfNeeded: self)) }
    public init?(settingValue v: SettingValue) { guard case .int(let i) = v, i >= 0 else { return nil }; self = UInt64(i) }
}
extension Double: SettingRepresentable {
    public static var settingKind: SettingKind { .double }
    public var settingValue: SettingValue { .double(self) }
    public init?(settingValue v: SettingValue) {
        switch v { case .double(let d): self = d; case .int(let i): self = Double(i); default: return nil }
    }
}
extension Float: SettingRepresentable {
    public static var settingKind: SettingKind { .double }
    /// The float's shortest digits (0.3, not 0.30000001192092896).
    public var settingValue: SettingValue { .double(Double(description) ?? Double(self)) }
    public init?(settingValue v: SettingValue) { guard let d = Double(settingValue: v) else { return nil }; self = Float(d) }
}
extension Bool: SettingRepresentable {
    public static var settingKind: SettingKind { .bool }
    public var settingValue: SettingValue { .bool(self) }
    public init?(settingValue v: SettingValue) { guard case .bool(let b) = v else { return nil }; self = b }
}
extension String: SettingRepresentable {
    public static var settingKind: SettingKind { .string }
    public var settingValue: SettingValue { .string(self) }
    public init?(settingValue v: SettingValue) { guard case .string(let s) = v else { return nil }; self = s }
}
extension Array: SettingRepresentable where Element == String {
    public static var settingKind: SettingKind { .strings }
    public var settingValue: SettingValue { .strings(self) }
    public init?(settingValue v: SettingValue) { guard case .strings(let a) = v else { return nil }; self = a }
}
/// An optional count: nil is `.none`, and a count of 0 given by a user means nil (`save_total_limit=0`: keep all).
extension Optional: SettingRepresentable where Wrapped == Int {
    public static var settingKind: SettingKind { .int }
    public var settingValue: SettingValue { map { .int($0) } ?? .none }
    public init?(settingValue v: SettingValue) {
        switch v { case .none, .int(0): self = nil; case .int(let i): self = i; default: return nil }
    }
}

/// One field of a settings type: its name (the checkpoint's and the notebook's), kind, range and help.
public struct Setting<Root>: @unchecked Sendable {
    public let name: String
    public let kind: SettingKind
    public let range: SettingRange?
    public let help: String
    /// The user must give it (no default makes sense: `output_dir`).
    public let required: Bool
    private let read: (Root) -> SettingValue
    private let write: (inout Root, SettingValue) -> Bool

    /// A setting stored at `keyPath`; `kind` overrides the property's own (`.path` for a `String`, `.choice`).
    public init<V: SettingRepresentable>(_ name: String, _ keyPath: WritableKeyPath<Root, V>, _ range: SettingRange? = nil,
                                         kind: SettingKind? = nil, required: Bool = false, help: String) {
        self.name = name; self.range = range; self.help = help; self.required = required
        self.kind = kind ?? V.settingKind
        read = { $0[keyPath: keyPath].settingValue }
        write = { root, value in
            guard let v = V(settingValue: value) else { return false }
            root[keyPath: keyPath] = v
            return true
        }
    }

    public func value(of root: Root) -> SettingValue { read(root) }

    /// Stores `value` and checks what was stored against the range (an optional count given as 0 is stored as
    /// unset, which passes): "warmup_steps must be >= 0, got -1".
    public func set(_ value: SettingValue, in root: inout Root) throws {
        guard write(&root, value) else {
            try check(value)
            throw SettingError(name, "\(name) cannot be \(value)")
        }
        try check(read(root))
    }

    /// Throws "NAME must be PHRASE, got VALUE" when `value` is outside the range; an unset optional passes.
    public func check(_ value: SettingValue) throws {
        if case .none = value { return }
        if case .choice(let words) = kind, case .string(let s) = value, !words.contains(s) {
            throw SettingError(name, "\(name) must be " + words.map { "\"\($0)\"" }.joined(separator: " or ") + ", got \"\(s)\"")
        }
        if let range, !range.contains(value) { throw SettingError(name, "\(name) must be \(range.phrase), got \(value)") }
    }
}

/// Every setting of a settings type, in the order help and `show` list them.
public struct SettingsTable<Root>: @unchecked Sendable {
    public let settings: [Setting<Root>]
    public init(_ settings: [Setting<Root>]) { self.settings = settings }

    public var names: [String] { settings.map(\.name) }
    public subscript(name: String) -> Setting<Root>? { settings.first { $0.name == name } }

    /// Throws the first setting of `root` outside its range.
    public func check(_ root: Root) throws {
        for s in settings { try s.check(s.value(of: root)) }
    }

    /// name → value, ready for JSON (`training_args.json`).
    public func dictionary(_ root: Root) -> [String: Any?] {
        var out: [String: Any?] = [:]
        for s in settings { out[s.name] = s.value(of: root).json }
        return out
    }
}

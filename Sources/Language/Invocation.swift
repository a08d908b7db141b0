import Foundation

/// The checked arguments of one verb call, as its handler sees them.
///
/// Every parameter with a default is present; accessors throw a clear error if a handler asks
/// for a type the registry entry did not promise.
///
/// ```swift
/// let path = try inv.string("path")
/// let rank = try inv.int("r")
/// let model = try inv.object("model", as: ModelObject.self)
/// ```
public struct Invocation {
    public let verb: Verb
    /// The name the result will be stored under (`m = load_model ...`), if any.
    public let target: String?
    /// Values by parameter name: given ones and defaults.
    public let values: [String: Value]
    /// Names given explicitly by the user (not defaults).
    public let given: Set<String>
    /// The values of the variadic parameter (`print a b c`).
    public let rest: [Value]
    /// Where the call was written, for errors a handler raises about one argument.
    public let statement: Statement?
    /// The source position of each given argument; the variadic ones are `NAME.0`, `NAME.1`, ...
    public let argumentRanges: [String: SourceRange]

    public init(verb: Verb, target: String? = nil, values: [String: Value], given: Set<String> = [], rest: [Value] = [],
                statement: Statement? = nil, argumentRanges: [String: SourceRange] = [:]) {
        self.verb = verb; self.target = target; self.values = values; self.given = given
        self.rest = rest; self.statement = statement; self.argumentRanges = argumentRanges
    }

    /// True when the user wrote this argument (as opposed to its default applying).
    public func has(_ name: String) -> Bool { given.contains(name) }

    /// `name=` as the user writes this verb's option, for hints; nil when the verb has no option `name`,
    /// so a hint built from it can never name an option that does not exist.
    ///
    /// ```swift
    /// if let q = inv.option("question") { hint = "name the column: \(q)KEY" }   // "question="
    /// ```
    public func option(_ name: String) -> String? {
        verb.keywords.contains { $0.name == name } ? name + "=" : nil
    }

    /// The value, or `.none` when absent.
    public func value(_ name: String) -> Value { values[name] ?? .none }

    /// An error pointing at an argument (or the verb when the argument was not written).
    public func error(_ message: String, at name: String? = nil, hint: String? = nil) -> LanguageError {
        let range = name.flatMap { argumentRanges[$0] } ?? statement?.verbRange
        return LanguageError(.runtime, message, source: statement?.source, range: range, hint: hint)
    }

    public func string(_ name: String) throws -> String {
        guard case .string(let s) = value(name) else { throw error("'\(verb.name)' needs \(name) as text", at: name) }
        return s
    }
    public func optionalString(_ name: String) throws -> String? {
        if case .none = value(name) { return nil }
        return try string(name)
    }
    public func int(_ name: String) throws -> Int {
        guard case .int(let i) = value(name) else { throw error("'\(verb.name)' needs \(name) as an integer", at: name) }
        return i
    }
    public func optionalInt(_ name: String) throws -> Int? {
        if case .none = value(name) { return nil }
        return try int(name)
    }
    public func double(_ name: String) throws -> Double {
        guard let d = value(name).number else { throw error("'\(verb.name)' needs \(name) as a number", at: name) }
        return d
    }
    public func optionalDouble(_ name: String) throws -> Double? {
        if case .none = value(name) { return nil }
        return try double(name)
    }
    public func bool(_ name: String) throws -> Bool {
        guard case .bool(let b) = value(name) else { throw error("'\(verb.name)' needs \(name) as true or false", at: name) }
        return b
    }
    public func list(_ name: String) throws -> [Value] {
        guard case .list(let xs) = value(name) else { throw error("'\(verb.name)' needs \(name) as a list", at: name) }
        return xs
    }

    /// The live object passed for `name`, cast to the wrapper class the handler expects.
    public func object<T: LiveObject>(_ name: String, as type: T.Type) throws -> T {
        guard case .object(let o) = value(name) else { throw error("'\(verb.name)' needs \(name) as an object", at: name) }
        guard let t = o as? T else { throw error("'\(verb.name)' cannot use a \(o.typeName) as \(name)", at: name) }
        return t
    }
}

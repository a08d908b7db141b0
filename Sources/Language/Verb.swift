/// The type a parameter accepts; the registry checks arguments against it before a handler runs.
public enum ParameterType: Sendable, Equatable {
    case string
    case int
    /// A float; an int is accepted and widened.
    case double
    case bool
    case list
    /// A file or folder path: a string, with a leading `~/` expanded.
    case path
    /// A session name written bare (`del model`): not looked up.
    case name
    /// One of fixed words (`split=train`); completion offers them.
    case choice([String])
    /// A live object of a type ("Model", "Dataset"); "" accepts any object.
    case object(String)
    /// Any value at all.
    case any
    /// Any value, turned into its text; a bare word that is not a name is the word itself (`echo`).
    case text

    /// How the type reads in help and errors.
    public var label: String {
        switch self {
        case .string: return "string"
        case .int: return "int"
        case .double: return "float"
        case .bool: return "bool"
        case .list: return "list"
        case .path: return "path"
        case .name: return "name"
        case .choice(let values): return values.joined(separator: "|")
        case .object(let t): return t.isEmpty ? "object" : t
        case .any: return "value"
        case .text: return "text"
        }
    }
}

/// What Tab offers for a parameter's value.
public enum CompletionKind: Sendable, Equatable {
    case none
    /// File and folder names; `extensions` narrows files (["mednb"]), empty for any.
    case path(extensions: [String])
    /// Known names (`smollm2`, presets) and file and folder names.
    case namesOrPath(names: [String], extensions: [String])
    /// Names of live objects of a type ("" for any name in the session).
    case objects(type: String)
    /// Fixed words.
    case values([String])
    /// Verb names (for `help VERB`).
    case verbs
}

/// One parameter of a verb: positional (by order) or keyword (`name=value`).
///
/// ```swift
/// Parameter("path", .path, help: "the model file", completion: .path(extensions: ["gguf", "safetensors"]))
/// Parameter("r", .int, default: .int(8), help: "LoRA rank")
/// ```
public struct Parameter: Sendable {
    public var name: String
    public var type: ParameterType
    /// The value used when the argument is not given; nil with `required == false` means "absent".
    public var defaultValue: Value?
    public var required: Bool
    public var help: String
    public var completion: CompletionKind

    /// A parameter. It is required when it has no default, unless `optional` is set. An object parameter
    /// may leave `help` out: help then names the verb that makes such an object (`Registry.help(of:)`).
    public init(_ name: String, _ type: ParameterType, default defaultValue: Value? = nil, optional: Bool = false,
                help: String = "", completion: CompletionKind? = nil) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.required = defaultValue == nil && !optional
        self.help = help
        switch (completion, type) {
        case (let c?, _): self.completion = c
        case (nil, .path): self.completion = .path(extensions: [])
        case (nil, .choice(let values)): self.completion = .values(values)
        case (nil, .object(let t)): self.completion = .objects(type: t)
        case (nil, .bool): self.completion = .values(["true", "false"])
        case (nil, .any), (nil, .name), (nil, .text): self.completion = .objects(type: "")
        default: self.completion = .none
        }
    }
}

extension Value: @unchecked Sendable {}

/// A verb's handler: gets the checked arguments and the session, returns the statement's value.
public typealias VerbHandler = (Invocation, Session) throws -> Value

/// One verb of the language. The registry drives parsing, checking, `help`, completion and docs from it.
///
/// ```swift
/// Verb("echo", summary: "Write the arguments on one line.",
///      rest: Parameter("values", .any, optional: true, help: "what to write"),
///      examples: ["echo \"rows:\" n"]) { inv, session in
///     session.writeLine(inv.rest.map(\.text).joined(separator: " "))
///     return .none
/// }
/// ```
public struct Verb: @unchecked Sendable {
    public var name: String
    public var summary: String
    /// Paragraphs shown by `help VERB` and in docs/language.md after the summary.
    public var details: String
    public var positional: [Parameter]
    /// Takes any number of further positional values (as `print a b c` does).
    public var rest: Parameter?
    public var keywords: [Parameter]
    public var examples: [String]
    /// When true, the result is not shown even when it is not assigned (`set` returns the value it stored).
    public var quietResult: Bool
    /// The type of object the verb makes ("Model" for `load_model`), for messages that tell a user how to get
    /// one: `ask "What is scurvy?"` answers "make one first with load_model, as in: model = load_model smollm2".
    public var makes: String?
    public var handler: VerbHandler

    public init(_ name: String, summary: String, details: String = "",
                positional: [Parameter] = [], rest: Parameter? = nil, keywords: [Parameter] = [],
                examples: [String] = [], quietResult: Bool = false, makes: String? = nil, handler: @escaping VerbHandler) {
        self.name = name; self.summary = summary; self.details = details
        self.positional = positional; self.rest = rest; self.keywords = keywords
        self.examples = examples; self.quietResult = quietResult; self.makes = makes; self.handler = handler
    }

    /// `load_model PATH [dtype=f32|bf16] [threads=INT]`
    public var usage: String {
        var parts = [name]
        for p in positional {
            let word = p.name.uppercased()
            parts.append(p.required ? word : "[\(word)]")
        }
        if let r = rest { parts.append("[\(r.name.uppercased())...]") }
        for k in keywords {
            let label: String
            if case .choice = k.type { label = k.type.label } else { label = k.type.label.uppercased() }
            let item = "\(k.name)=\(label)"
            parts.append(k.required ? item : "[\(item)]")
        }
        return parts.joined(separator: " ")
    }

    /// Every parameter, positional first.
    public var allParameters: [Parameter] { positional + (rest.map { [$0] } ?? []) + keywords }
}

/// A titled group of verbs; docs/language.md has one section per group.
public struct VerbGroup: Sendable {
    public var title: String
    public var intro: String
    public var verbs: [Verb]
    public init(_ title: String, intro: String = "", verbs: [Verb]) {
        self.title = title; self.intro = intro; self.verbs = verbs
    }
}

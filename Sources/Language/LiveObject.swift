/// An engine object that lives in a session under a name: a model, a tokenizer, a dataset, a trainer...
///
/// Engine modules do not know about the language; a thin wrapper class in the Notebook module
/// (`Sources/Notebook/Objects/`) conforms to this protocol and exposes what users may read:
///
/// ```swift
/// final class ConfigObject: LiveObject {
///     let config: LlamaConfig
///     init(_ config: LlamaConfig) { self.config = config }
///     var typeName: String { "LlamaConfig" }
///     var summary: String { "\(config.num_hidden_layers) layers, hidden size \(config.hidden_size)" }
///     var fieldNames: [String] { ["num_hidden_layers", "hidden_size"] }
///     func field(_ name: String) -> Value? {
///         switch name {
///         case "num_hidden_layers": return .int(config.num_hidden_layers)
///         case "hidden_size": return .int(config.hidden_size)
///         default: return nil
///         }
///     }
/// }
/// ```
///
/// docs/extending.md has the whole example, compiled by the tests (Tests/NotebookTests/ExtendingExamples.swift).
public protocol LiveObject: AnyObject {
    /// The type as users see it in `vars`, in `help` and in messages ("Model", "Dataset", "Trainer").
    var typeName: String { get }
    /// One line: what this object is, for `vars` and `show`.
    var summary: String { get }
    /// The names `field(_:)` answers, in display order; drives `show` and Tab completion (`trainer.ar<TAB>`).
    var fieldNames: [String] { get }
    /// The value of a field, or nil when the object has no such field.
    func field(_ name: String) -> Value?
    /// Several lines for `show NAME`; the default is the summary and every field.
    func details() -> String
    /// Frees memory when the user runs `del NAME`; the default does nothing and lets ARC free it.
    func release()
}

extension LiveObject {
    public func details() -> String {
        var lines = ["\(typeName): \(summary)"]
        for name in fieldNames {
            if let v = field(name) {
                let text: String
                if case .object(let o) = v { text = "<\(o.typeName): \(o.summary)>" } else { text = v.display }
                lines.append("  \(name) = \(text)")
            }
        }
        return lines.joined(separator: "\n")
    }
    public func release() {}
}

/// A plain record of named values that shows like any live object: for nested fields such as
/// `trainer.args`, which are settings rather than engine objects.
///
/// ```swift
/// let args = RecordObject(typeName: "TrainingArguments",
///                         fields: [("learning_rate", .double(2e-4)), ("epochs", .int(3))])
/// args.field("epochs")   // .int(3)
/// ```
public final class RecordObject: LiveObject {
    public let typeName: String
    /// The fields in display order.
    public private(set) var fields: [(name: String, value: Value)]

    public init(typeName: String, fields: [(String, Value)]) {
        self.typeName = typeName
        self.fields = fields.map { (name: $0.0, value: $0.1) }
    }

    public var summary: String {
        fields.prefix(4).map { "\($0.name)=\($0.value.display)" }.joined(separator: " ") + (fields.count > 4 ? " ..." : "")
    }
    public var fieldNames: [String] { fields.map(\.name) }
    public func field(_ name: String) -> Value? { fields.first { $0.name == name }?.value }
}

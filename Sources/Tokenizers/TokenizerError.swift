import Foundation

/// Why a tokenizer could not be built; every case names the file (or source) and the field.
///
/// ```swift
/// do { _ = try loadTokenizer(folder: url) } catch { print(error) }
/// // "/m/tokenizer.json: model.merges[12]: expected "a b" or ["a", "b"]"
/// ```
public struct TokenizerError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// The file (or "GGUF vocabulary", ...) the problem is in.
    public var source: String
    /// The field, line or entry, such as `model.merges[12]`; empty when the whole file is at fault.
    public var field: String
    public var message: String

    public init(_ source: String, field: String = "", _ message: String) {
        self.source = source
        self.field = field
        self.message = message
    }

    public var description: String {
        field.isEmpty ? "\(source): \(message)" : "\(source): \(field): \(message)"
    }
    public var errorDescription: String? { description }
}

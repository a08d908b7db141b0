import Foundation
import Support

/// The one way medrepl reads the JSON files of models, tokenizers, adapters and checkpoints
/// (`config.json`, `tokenizer.json`, `tokenizer_config.json`, `adapter_config.json`, a safetensors index or
/// header, `trainer_state.json`, ...): Foundation's values (`[String: Any]`, `NSNumber`), and a file that does
/// not parse said in plain words at its line and column, found by `JSONReader` (which the dataset reader uses
/// too), never Foundation's "The data couldn't be read".
///
/// ```swift
/// let object = try JSONFile.readObject(folder.appendingPathComponent("config.json"))
/// // m/config.json: not valid JSON at line 3, column 18: unexpected ',', expected a value
/// ```
public enum JSONFile {
    /// Reads the file at `url`, whose top level must be an object. Errors name `url.path`; `operation`
    /// says what could not be done when the file cannot be read.
    public static func readObject(_ url: URL, operation: String = "cannot read") throws -> [String: Any] {
        try object(try read(url, operation: operation), file: url.path)
    }

    /// The bytes of the file at `url`; a file that cannot be read is a `FileSystemError` in plain words
    /// (`m/config.json: cannot read: it is a folder, not a file`).
    public static func read(_ url: URL, operation: String = "cannot read") throws -> Data {
        try FileSystemError.attempt(operation, path: url.path) { try Data(contentsOf: url) }
    }

    /// Parses `data`, the text of `file`, whose top level must be an object; `field` says where the JSON
    /// sits inside a file of another format (a safetensors `header`).
    public static func object(_ data: Data, file: String, field: String? = nil) throws -> [String: Any] {
        let value = try parse(data, file: file, field: field)
        guard let object = value as? [String: Any] else {
            throw WeightsError(file: file, field: field, "the top level is \(kindName(of: value)), not a JSON object")
        }
        return object
    }

    /// Parses `data`, the text of `file`: any JSON value.
    public static func parse(_ data: Data, file: String, field: String? = nil) throws -> Any {
        do {
            return try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw WeightsError(file: file, field: field, problem(in: data))
        }
    }

    /// Why `data` is not JSON, with its line and column: `not valid JSON at line 3, column 18: unexpected ','`.
    public static func problem(in data: Data) -> String {
        guard let e = JSONReader.firstProblem(in: [UInt8](data)) else { return "not valid JSON" }
        return "not valid JSON at line \(e.line), column \(e.column): \(e.message)"
    }

    /// "an array", "a string", ...: a parsed value's kind, for messages.
    public static func kindName(of value: Any) -> String {
        switch value {
        case is [String: Any]: return "an object"
        case is [Any]: return "an array"
        case is String: return "a string"
        case is NSNull: return "null"
        case let n as NSNumber: return isBoolean(n) ? "a boolean" : "a number"
        default: return "a value"
        }
    }

    /// Whether a parsed value is a JSON `true`/`false`: Foundation hands booleans over as NSNumber with the
    /// C type "c", and plain `is Bool` is also true for the numbers 0 and 1.
    public static func isBoolean(_ value: Any) -> Bool {
        if let n = value as? NSNumber { return String(cString: n.objCType) == "c" }
        return value is Bool
    }
}

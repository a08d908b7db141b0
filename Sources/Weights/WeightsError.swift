import Foundation

/// Every error the Weights module throws: what went wrong, in which file, at which field or tensor.
///
/// The `description` is one line meant for a person, for example
/// `model.safetensors: tensor "lm_head.weight": data_offsets [0, 96] out of range (data section is 64 bytes)`.
///
/// ```swift
/// do { _ = try SafetensorsFile(url: url) }
/// catch let error as WeightsError { print(error) }   // names the file and the field
/// ```
public struct WeightsError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// The file (or URL, or model name) the error is about.
    public var file: String
    /// The field, tensor or key inside the file, when there is one (`"header"`, `tensor "x"`, ...).
    public var field: String?
    /// What is wrong, and where useful what to do about it.
    public var message: String

    public init(file: String, field: String? = nil, _ message: String) {
        self.file = file
        self.field = field
        self.message = message
    }

    public var description: String {
        if let field { return "\(file): \(field): \(message)" }
        return "\(file): \(message)"
    }

    public var errorDescription: String? { description }
}

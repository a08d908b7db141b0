import Foundation
import Support
import Weights

/// What went wrong while reading a config, loading weights or running the model. The description
/// names the file and the field or tensor involved.
///
/// ```swift
/// do { _ = try LlamaConfig.load(from: url) }
/// catch let e as LlamaError { print(e) }   // "config.json: field 'hidden_size' is missing"
/// ```
public enum LlamaError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// A required config field is absent.
    case missingField(file: String, field: String)
    /// A config field has the wrong type or an impossible value.
    case invalidField(file: String, field: String, reason: String)
    /// The config describes a model this engine does not run.
    case unsupported(file: String, field: String, value: String, reason: String)
    /// A weight tensor is absent from the checkpoint; `location` names it as the file being read does.
    case missingTensor(name: String, location: TensorLocation? = nil)
    /// A weight tensor has another shape than the config implies (shapes in PyTorch order).
    case tensorShape(name: String, expected: [Int], found: [Int], location: TensorLocation? = nil)
    /// Bad input to the forward pass or generation (token out of range, ragged batch, ...).
    case invalidInput(String)
    /// The model would not fit in the memory available.
    case insufficientMemory(needed: Int, available: Int, what: String)

    public var description: String {
        switch self {
        case let .missingField(file, field):
            return "\(file): field '\(field)' is missing"
        case let .invalidField(file, field, reason):
            return "\(file): field '\(field)' \(reason)"
        case let .unsupported(file, field, value, reason):
            return "\(file): \(field) = \(value) is not supported: \(reason)"
        case let .missingTensor(name, location):
            return "\(location?.description ?? "weights: tensor '\(name)'") is missing"
        case let .tensorShape(name, expected, found, location):
            guard let location else { return "weights: tensor '\(name)' has shape \(found), expected \(expected)" }
            return "\(location) has \(location.shapeWord) \(location.inFileOrder(found)), expected \(location.inFileOrder(expected))"
        case let .invalidInput(message):
            return message
        case let .insufficientMemory(needed, available, what):
            return "\(what) needs about \(formatBytes(needed)) but only \(formatBytes(available)) of memory is available"
        }
    }

    public var errorDescription: String? { description }
}

// Errors from loading and reshaping QA datasets. Each names the file and, where one is at fault,
// the row (0-based, as `dataset[i]` counts) and the line it starts on.
import Foundation

/// Why a dataset could not be loaded or reshaped.
public enum DatasetError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// No file at the path.
    case fileNotFound(path: String)
    /// No file at the path, and one with a close name beside it.
    case fileNotFoundNear(path: String, suggestion: String)
    /// The file exists but could not be read.
    case unreadable(path: String, reason: String)
    /// The file is not valid JSON (or a JSON Lines line is not).
    case malformedJSON(path: String, line: Int, column: Int, message: String)
    /// The top-level value is not an array of rows.
    case notAnArray(path: String, found: String)
    /// One row is unusable and the load was strict.
    case badRow(path: String, row: Int, line: Int, reason: String)
    /// No row has the expected keys: the wrong file, or a layout with other column names.
    case missingColumns(path: String, expected: [String], found: [String])
    /// Every row was skipped, so there is nothing to work with.
    case noUsableRows(path: String, report: String)
    /// A hub dataset id has no snapshot in the local Hugging Face cache.
    case hubDatasetNotFound(id: String, searched: [String])
    /// A hub snapshot holds no .json/.jsonl file.
    case noDataFiles(directory: String)
    /// A range or index outside the dataset.
    case outOfRange(String)
    /// A template string without the placeholders it needs.
    case invalidTemplate(String)
    /// Any other bad argument.
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "\(path): no such file"
        case .fileNotFoundNear(let path, let suggestion):
            return "\(path): no such file; did you mean '\(suggestion)'?"
        case .unreadable(let path, let reason):
            return "\(path): cannot read: \(reason)"
        case .malformedJSON(let path, let line, let column, let message):
            return "\(path):\(line):\(column): malformed JSON: \(message)"
        case .notAnArray(let path, let found):
            return "\(path): expected a JSON array of rows (or JSON Lines), found a top-level \(found)"
        case .badRow(let path, let row, let line, let reason):
            return "\(path):\(line): row \(row): \(reason)"
        case .missingColumns(let path, let expected, let found):
            let f = found.isEmpty ? "no keys" : found.map { "\"\($0)\"" }.joined(separator: ", ")
            return "\(path): no row has the columns " + expected.map { "\"\($0)\"" }.joined(separator: " and ")
                + "; the rows have " + f
        case .noUsableRows(let path, let report):
            return "\(path): no usable rows (\(report))"
        case .hubDatasetNotFound(let id, let searched):
            return "dataset \"\(id)\" is not in the Hugging Face cache; looked in: " + searched.joined(separator: ", ")
        case .noDataFiles(let directory):
            return "\(directory): no .json or .jsonl data files in this snapshot"
        case .outOfRange(let message), .invalidTemplate(let message), .invalidArgument(let message):
            return message
        }
    }
    public var errorDescription: String? { description }
}

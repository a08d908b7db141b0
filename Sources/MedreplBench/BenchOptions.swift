import Foundation
import Kernels

/// A bad command line or input file of the benchmark.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// `--name value` pairs and `--flag`s after the workload name.
struct BenchOptions {
    private var values: [String: String] = [:]
    private var flags: Set<String> = []

    /// Flags take no value; every other `--name` takes the next argument.
    static let flagNames: Set<String> = ["checkpointing"]

    init(_ arguments: [String]) throws {
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            guard a.hasPrefix("--") else { throw BenchError("expected --name, got '\(a)'") }
            let name = String(a.dropFirst(2))
            if Self.flagNames.contains(name) { flags.insert(name); i += 1; continue }
            guard i + 1 < arguments.count else { throw BenchError("--\(name) needs a value") }
            values[name] = arguments[i + 1]
            i += 2
        }
    }

    func string(_ name: String, _ fallback: String) -> String { values[name] ?? fallback }
    func optionalString(_ name: String) -> String? { values[name] }
    func flag(_ name: String) -> Bool { flags.contains(name) }

    func int(_ name: String, _ fallback: Int) throws -> Int {
        guard let text = values[name] else { return fallback }
        guard let v = Int(text) else { throw BenchError("--\(name) must be an integer, got '\(text)'") }
        return v
    }

    /// `--dtype`: how the weights are stored (f32, bf16, f16, q8_0, q4_0, q4_1).
    func storage(_ fallback: StorageType) throws -> StorageType {
        let text = string("dtype", fallback.rawValue)
        guard let storage = StorageType(rawValue: text) else {
            throw BenchError("--dtype must be one of \(StorageType.allCases.map(\.rawValue).joined(separator: ", ")), not '\(text)'")
        }
        return storage
    }

    func double(_ name: String, _ fallback: Double) throws -> Double {
        guard let text = values[name] else { return fallback }
        guard let v = Double(text) else { throw BenchError("--\(name) must be a number, got '\(text)'") }
        return v
    }
}

/// The process's peak resident set so far, in GiB (Linux reports ru_maxrss in KiB).
func peakResidentGiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / (1024 * 1024)
}

/// Seconds since an arbitrary origin, for intervals.
func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// One JSON object on one line, keys sorted (the runner reads the last line of standard output).
func jsonLine(_ object: [String: Any]) -> String {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    return String(decoding: data, as: UTF8.self)
}

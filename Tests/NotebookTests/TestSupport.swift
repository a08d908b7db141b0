import Foundation
import Notebook

/// Paths and helpers shared by the notebook tests.
enum TestSupport {
    /// The folder holding Package.swift, found by walking up from this file.
    static let repoRoot: URL = {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while url.path != "/" {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
            url = url.deletingLastPathComponent()
        }
        return url
    }()

    static let fixtures = repoRoot.appendingPathComponent("Tests/NotebookTests/Fixtures")

    static func fixture(_ name: String) -> URL { fixtures.appendingPathComponent(name) }

    /// The built `medrepl` next to the test bundle (the build products folder), if it was built.
    static var binary: URL? {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("medrepl"),
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("medrepl"),
            Bundle.main.bundleURL.appendingPathComponent("medrepl"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// A session whose output is collected into a string. Tests run in parallel in one process, so only
    /// the tests of the real SIGINT path let a session receive the process's Ctrl-C; the others
    /// interrupt their own session (`Session.interrupt()`).
    static func session(environment: [String: String] = ["HOME": "/tmp"], receivesInterrupts: Bool = false) -> (Session, () -> String) {
        let box = OutputBox()
        let session = Session(output: OutputSink(stream: { box.text += $0 }), environment: environment)
        session.receivesInterrupts = receivesInterrupts
        return (session, { box.text })
    }

    final class OutputBox { var text = "" }

    /// Runs a program and returns its status, standard output and standard error.
    static func run(_ executable: URL, _ arguments: [String], stdin: String? = nil,
                    environment: [String: String]? = nil) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        let outPipe = Pipe(), errPipe = Pipe(), inPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = inPipe
        try process.run()
        if let stdin { inPipe.fileHandleForWriting.write(Data(stdin.utf8)) }
        try inPipe.fileHandleForWriting.close()
        let out = outPipe.fileHandleForReading.readDataToEndOfFile()
        let err = errPipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }
}

/// A stand-in for an engine object: a trainer with nested arguments.
final class FakeTrainer: LiveObject {
    var released = false
    let args = RecordObject(typeName: "TrainingArguments",
                            fields: [("learning_rate", .double(2e-4)), ("epochs", .int(3)), ("optim", .string("adamw"))])
    var typeName: String { "Trainer" }
    var summary: String { "3 epochs at lr 0.0002" }
    var fieldNames: [String] { ["args", "steps", "losses"] }
    func field(_ name: String) -> Value? {
        switch name {
        case "args": return .object(args)
        case "steps": return .int(150)
        case "losses": return .list([.double(2.5), .double(1.75)])
        default: return nil
        }
    }
    func release() { released = true }
}

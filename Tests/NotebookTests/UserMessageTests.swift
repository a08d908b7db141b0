import Foundation
import Notebook
import Testing
import Weights

// Issue 14's messages: what a user sees when a name, a path, an option or a file system goes wrong
// says it in the tool's words (real options, plain reasons), never Foundation's or Python's.

@Suite struct UserMessageTests {
    /// A fresh folder and a session working in it (no network: the hub is an unreachable endpoint).
    static func setUp() throws -> (Session, () -> String, URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-msg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let (session, output) = TestSupport.session(environment: [
            "HOME": dir.path, "HF_HUB_CACHE": dir.appendingPathComponent("hub").path,
            "HF_ENDPOINT": "http://127.0.0.1:9", "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        ])
        session.directory = dir
        return (session, output, dir)
    }

    static func error(_ session: Session, _ text: String) -> String {
        do {
            try session.run(text, file: "<command line>")
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    /// Words of Foundation's and Python's messages that must never reach a user.
    static let foreignWording = ["NSCocoaErrorDomain", "The operation could not be completed", "URLError",
                                 "Sample larger than population", "localizedDescription", "Error Domain="]

    static func expectPlain(_ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for word in foreignWording {
            #expect(!message.contains(word), "\(message)", sourceLocation: sourceLocation)
        }
    }

    // MARK: file-system errors

    @Test func saveAdapterUnderAFileSaysAParentIsAFile() throws {
        let (session, _, dir) = try Self.setUp()
        try Data("x".utf8).write(to: dir.appendingPathComponent("afile"))
        try session.run("m = load_model \"\(ModelFixtures.tinyLlama)\"\nload_adapter m \"\(ModelFixtures.initialAdapter)\"")
        let message = Self.error(session, "save_adapter m afile/sub")
        Self.expectPlain(message)
        #expect(message.contains("afile/sub: cannot create the adapter folder: a parent of it (\(dir.appendingPathComponent("afile").path)) is a file, not a folder"), "\(message)")
    }

    @Test func fileSystemReasonsAreInPlainWords() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-fs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("f")
        try Data().write(to: file)
        let under = file.appendingPathComponent("x/y")
        do {
            try FileManager.default.createDirectory(at: under, withIntermediateDirectories: true)
            Issue.record("created a folder under a file")
        } catch {
            #expect(FileSystemError.reason(for: error, path: under.path) == "a parent of it (\(file.path)) is a file, not a folder")
        }
        #expect(FileSystemError.reason(errno: EACCES, path: "/x") == "permission denied")
        #expect(FileSystemError.reason(errno: ENOSPC, path: "/x") == "disk full")
        // AtomicFile (every writer) says the same.
        #expect(throws: FileSystemError.self) { try AtomicFile.write(Data(), to: under) }
        do { try AtomicFile.write(Data(), to: under) } catch {
            #expect("\(error)".hasSuffix("a parent of it (\(file.path)) is a file, not a folder"), "\(error)")
        }
    }
}

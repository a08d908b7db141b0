import Foundation
import Testing
import Support

/// Issue 16's writes: a folder of files swapped in whole, other files in it kept, and only medrepl's own
/// temporaries of an interrupted write removed by the next write (NotebookTests kill real writers).
@Suite struct AtomicFolderTests {
    static func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-atomic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func text(_ url: URL) -> String? { try? String(contentsOf: url, encoding: .utf8) }

    static func entries(_ url: URL) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted() }

    /// A process id that is not running (for temporaries whose writer is gone).
    static let deadPID: pid_t = {
        var pid: pid_t = 4_194_000
        while kill(pid, 0) == 0 || errno != ESRCH { pid -= 1 }
        return pid
    }()

    @Test func onlyMedreplsOwnStaleNamesAreTemporaries() {
        let dead = Self.deadPID
        #expect(WriteTemporaries.stale(".ad.medrepl-tmp-\(dead)-a8Zq0c", of: "ad") == .tmp)
        #expect(WriteTemporaries.stale(".ad.medrepl-old-\(dead)-a8Zq0c", of: "ad") == .old)
        #expect(WriteTemporaries.stale(".ad.medrepl-tmp-\(getpid())-a8Zq0c", of: "ad") == nil, "this process may be writing it")
        #expect(WriteTemporaries.stale(".ad.medrepl-tmp-\(dead)-a8Zq0", of: "ad") == nil)
        #expect(WriteTemporaries.stale(".ad.medrepl-tmp-\(dead)-a8Zq0c", of: "a") == nil)
        #expect(WriteTemporaries.stale(".adapter_model.safetensors.Xy12Ab.tmp", of: "adapter_model.safetensors") == .tmp, "what earlier versions left")
        #expect(WriteTemporaries.stale(".checkpoint-57.0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0.tmp", of: "checkpoint-57") == .tmp)
        #expect(WriteTemporaries.stale(".something.tmp", of: "something") == nil)
        #expect(WriteTemporaries.stale(".ad.tmp", of: "ad") == nil)
        #expect(WriteTemporaries.stale(".ad.notes.tmp", of: "ad") == nil)
    }

    @Test func aFolderIsReplacedWholeAndKeepsTheUsersOtherFiles() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("adapter")
        try AtomicFolder.write(to: target) { folder in
            try AtomicFile.write("old config", to: folder.appendingPathComponent("config.json").path)
            try AtomicFile.write("old weights", to: folder.appendingPathComponent("weights").path)
        }
        try "mine".write(to: target.appendingPathComponent("README"), atomically: false, encoding: .utf8)
        try FileManager.default.createDirectory(at: target.appendingPathComponent("checkpoint-1"), withIntermediateDirectories: true)
        try "state".write(to: target.appendingPathComponent("checkpoint-1/trainer_state.json"), atomically: false, encoding: .utf8)
        let litter = ".weights.medrepl-tmp-\(Self.deadPID)-Qw3rTy"
        try "half".write(to: target.appendingPathComponent(litter), atomically: false, encoding: .utf8)

        let written = try AtomicFolder.write(to: target) { folder -> Int in
            try AtomicFile.write("new config", to: folder.appendingPathComponent("config.json").path)
            try AtomicFile.write("new weights", to: folder.appendingPathComponent("weights").path)
            return 2
        }
        #expect(written == 2)
        #expect(Self.text(target.appendingPathComponent("config.json")) == "new config")
        #expect(Self.text(target.appendingPathComponent("weights")) == "new weights")
        #expect(Self.text(target.appendingPathComponent("README")) == "mine")
        #expect(Self.text(target.appendingPathComponent("checkpoint-1/trainer_state.json")) == "state")
        #expect(Self.entries(target) == ["README", "checkpoint-1", "config.json", "weights"], "the litter stays behind")
        #expect(Self.entries(dir) == ["adapter"], "no temporary folder is left")
    }

    @Test func aFailingWriteChangesNothing() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("export")
        try AtomicFolder.write(to: target) { try AtomicFile.write("v1", to: $0.appendingPathComponent("config.json").path) }
        struct DiskFull: Error {}
        #expect(throws: DiskFull.self) {
            try AtomicFolder.write(to: target) { folder in
                try AtomicFile.write("v2", to: folder.appendingPathComponent("config.json").path)
                throw DiskFull()
            }
        }
        #expect(Self.text(target.appendingPathComponent("config.json")) == "v1")
        #expect(Self.entries(dir) == ["export"])
        // A file where the folder should be is refused in plain words.
        let file = dir.appendingPathComponent("afile")
        try Data("x".utf8).write(to: file)
        do {
            try AtomicFolder.write(to: file, what: "the adapter folder") { _ in }
            Issue.record("wrote over a file")
        } catch {
            #expect("\(error)" == "\(file.path): cannot write the adapter folder: it is a file, not a folder")
        }
    }

    /// The next write to the same place removes the temporaries an interrupted one left, and only those; a
    /// folder left moved aside with nothing in its place is put back first.
    @Test func theNextWriteRemovesOnlyItsOwnLitter() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dead = Self.deadPID
        let mine = [".something.tmp", ".adapter.tmp", ".other.medrepl-tmp-\(dead)-Abc123", ".adapter.medrepl-tmp-\(getpid())-Abc123"]
        let litter = [".adapter.medrepl-tmp-\(dead)-Abc123", ".adapter.Xy12Ab.tmp"]
        for name in mine + litter {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent(name), withIntermediateDirectories: true)
        }
        // An old folder moved aside, the new one never renamed in.
        let aside = dir.appendingPathComponent(".adapter.medrepl-old-\(dead)-Zz9Yy8")
        try FileManager.default.createDirectory(at: aside, withIntermediateDirectories: true)
        try "old".write(to: aside.appendingPathComponent("config.json"), atomically: false, encoding: .utf8)

        WriteTemporaries.removeStale(of: dir.appendingPathComponent("adapter"))
        #expect(Self.text(dir.appendingPathComponent("adapter/config.json")) == "old", "the old folder is back")
        #expect(Self.entries(dir) == (mine + ["adapter"]).sorted())

        // A file's write cleans its own temporaries the same way.
        let file = dir.appendingPathComponent("notes.json")
        try Data().write(to: dir.appendingPathComponent(".notes.json.medrepl-tmp-\(dead)-Abc123"))
        try Data().write(to: dir.appendingPathComponent(".notes.json.tmp"))
        try AtomicFile.write("{}", to: file.path)
        #expect(Self.entries(dir) == (mine + ["adapter", "notes.json", ".notes.json.tmp"]).sorted())
    }
}

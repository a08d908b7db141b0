import Foundation
import Language
import Notebook
import TestSupport

/// Paths and helpers shared by the notebook tests.
enum NotebookFixtures {
    static let fixtures = Repository.url("Tests/NotebookTests/Fixtures")

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
        let session = Session(registry: .standard(), output: OutputSink(stream: { box.text += $0 }), environment: environment)
        session.receivesInterrupts = receivesInterrupts
        return (session, { box.text })
    }

    final class OutputBox { var text = "" }

    /// Runs a program and returns its status, standard output and standard error; a program still running
    /// after `timeout` seconds is killed and reported as an error, so a test can fail but never hang.
    ///
    /// Not Foundation's `Process`: its child monitoring can miss a child that exits at once (tmux's client
    /// does), leaving `waitUntilExit()` blocked forever; that hung CI. Here the pipes are close-on-exec (a
    /// program another test starts at the same moment cannot inherit them) and this thread waits for its
    /// own child with `waitpid`.
    static func run(_ executable: URL, _ arguments: [String], stdin: String? = nil,
                    environment: [String: String]? = nil, timeout: Double = 120) throws -> (status: Int32, out: String, err: String) {
        var input: [Int32] = [-1, -1], output: [Int32] = [-1, -1], errors: [Int32] = [-1, -1]
        // Glibc's module does not export pipe2, so close-on-exec is set after pipe(); the lock keeps
        // another test's spawn out of the moment between the two.
        spawnLock.lock()
        guard pipe(&input) == 0, pipe(&output) == 0, pipe(&errors) == 0 else {
            spawnLock.unlock()
            throw SpawnError(message: "pipe failed: \(String(cString: strerror(errno)))")
        }
        for fd in input + output + errors { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input[0], 0)
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errors[1], 2)

        let argv = ([executable.path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envStrings = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let envp = envStrings.map { strdup($0) } + [nil]
        defer { envp.forEach { free($0) } }

        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable.path, &actions, nil, argv, envp)
        spawnLock.unlock()
        for fd in [input[0], output[1], errors[1]] { close(fd) }
        guard spawned == 0 else {
            for fd in [input[1], output[0], errors[0]] { close(fd) }
            throw SpawnError(message: "cannot start \(executable.path): \(String(cString: strerror(spawned)))")
        }
        if let stdin {
            let bytes = Array(stdin.utf8)
            var written = 0
            while written < bytes.count {
                let n = bytes[written...].withUnsafeBufferPointer { write(input[1], $0.baseAddress, $0.count) }
                if n <= 0 { break }
                written += n
            }
        }
        close(input[1])

        // Drain both pipes together (a full stderr pipe must not stall a program we wait on for stdout).
        var collected: [Int32: [UInt8]] = [output[0]: [], errors[0]: []]
        var open = [output[0], errors[0]]
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !open.isEmpty {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { timedOut = true; break }
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&fds, nfds_t(fds.count), Int32(min(left, 1) * 1000))
            if ready < 0 && errno != EINTR { break }
            for entry in fds where entry.revents != 0 {
                let n = read(entry.fd, &buffer, buffer.count)
                if n > 0 { collected[entry.fd]! += buffer[0..<n] } else if n == 0 || errno != EINTR && errno != EAGAIN {
                    open.removeAll { $0 == entry.fd }
                }
            }
        }
        if timedOut { kill(pid, SIGKILL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        close(output[0]); close(errors[0])
        let out = String(decoding: collected[output[0]]!, as: UTF8.self)
        let err = String(decoding: collected[errors[0]]!, as: UTF8.self)
        if timedOut {
            throw SpawnError(message: "\(executable.lastPathComponent) \(arguments.joined(separator: " ")) did not finish within \(Int(timeout)) s; output so far:\n\(out)\(err)")
        }
        // The shell's convention for a program ended by a signal: 128 + the signal.
        let exited = status & 0x7f == 0
        return (exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), out, err)
    }

    private static let spawnLock = NSLock()

    struct SpawnError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
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

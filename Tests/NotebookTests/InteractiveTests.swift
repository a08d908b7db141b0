import Foundation
import Testing

/// Drives the real shell through a pseudo-terminal with tmux: typing, Tab completion, Ctrl-C.
@Suite struct InteractiveTests {
    final class Tmux {
        let name = "medrepl-test-\(getpid())-\(Int.random(in: 0..<1_000_000))"
        let tmux: URL
        init(tmux: URL) { self.tmux = tmux }

        /// Every call goes to a tmux server of this test's own (`-L`), never the user's, and
        /// `kill-server` at the end leaves no process behind.
        @discardableResult
        func call(_ args: [String]) throws -> String {
            try TestSupport.run(tmux, ["-L", name] + args, timeout: 30).out
        }
        func keys(_ keys: String...) throws { try call(["send-keys", "-t", name] + keys) }
        /// The pane's text. tmux drops trailing spaces, so a prompt shows as `[1]>` at the end of its line.
        func screen() throws -> String { try call(["capture-pane", "-p", "-t", name]) }

        /// Waits until the screen satisfies `condition`, up to `timeout` seconds; returns the screen.
        func wait(_ timeout: Double = 10, until condition: (String) -> Bool) throws -> String {
            let end = Date().addingTimeInterval(timeout)
            var text = try screen()
            while !condition(text) && Date() < end {
                usleep(100_000)
                text = try screen()
            }
            return text
        }
    }

    static var tmuxPath: URL? {
        ["/usr/bin/tmux", "/usr/local/bin/tmux", "/bin/tmux"].map(URL.init(fileURLWithPath:))
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    @Test func typeCompleteInterruptAndSurvive() throws {
        guard let tmuxPath = Self.tmuxPath else { print("skipped: tmux is not installed"); return }
        guard let binary = TestSupport.binary else { print("skipped: the medrepl binary is not built next to the tests"); return }
        let tmux = Tmux(tmux: tmuxPath)
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-home-\(getpid())")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        // ~/.editrc is honoured: `medrepl:` lines apply to medrepl only. Ctrl-T types a command.
        try "medrepl:bind -s ^T \"print patients\"\n".write(to: home.appendingPathComponent(".editrc"), atomically: true, encoding: .utf8)
        let history = home.appendingPathComponent("history").path
        defer { _ = try? tmux.call(["kill-server"]); try? FileManager.default.removeItem(at: home) }
        try tmux.call(["new-session", "-d", "-s", tmux.name, "-x", "120", "-y", "40",
                       "env MEDREPL_HISTORY=\(history) MEDREPL_NO_BLAS_FIX=1 HOME=\(home.path) '\(binary.path)'"])
        var screen = try tmux.wait { $0.contains("[1]>") }
        #expect(screen.contains("[1]>"), "no prompt:\n\(screen)")

        try tmux.keys("patients = 42", "Enter")
        screen = try tmux.wait { $0.contains("[2]>") }

        // Tab completes the verb and then the name.
        try tmux.keys("pri", "Tab")
        screen = try tmux.wait { $0.contains("[2]> print") }
        #expect(screen.contains("[2]> print"), "verb not completed:\n\(screen)")
        try tmux.keys("pat", "Tab")
        screen = try tmux.wait { $0.contains("print patients") }
        #expect(screen.contains("[2]> print patients"), "name not completed:\n\(screen)")
        try tmux.keys("Enter")
        screen = try tmux.wait { $0.contains("[3]>") }
        #expect(screen.contains("[2]> print patients\n42\n[3]>"), "\(screen)")

        // Ctrl-C stops a long cell and returns to the prompt.
        let start = Date()
        try tmux.keys("sleep 30", "Enter")
        usleep(500_000)
        try tmux.keys("C-c")
        screen = try tmux.wait { $0.contains("[4]>") }
        #expect(screen.contains("interrupted\n[4]>"), "not interrupted:\n\(screen)")
        #expect(Date().timeIntervalSince(start) < 10)

        // Ctrl-C at the prompt drops the line; the session and its names survive.
        try tmux.keys("half a line", "C-c")
        screen = try tmux.wait { $0.contains("[4]> ^C\n[4]>") }
        #expect(screen.contains("[4]> ^C\n[4]>"), "Ctrl-C did not clear the line:\n\(screen)")
        try tmux.keys("print patients + 0", "C-a", "C-k", "C-t", "Enter")   // emacs keys, then the .editrc macro
        screen = try tmux.wait { $0.contains("print patients\n42\n[5]>") }
        #expect(screen.contains("[4]> print patients\n42\n[5]>"), "session did not survive:\n\(screen)")

        // An open bracket continues the cell on the next line.
        try tmux.keys("xs = [1,", "Enter")
        screen = try tmux.wait { $0.contains("\n...>") }
        #expect(screen.contains("[5]> xs = [1,\n...>"), "no continuation prompt:\n\(screen)")
        try tmux.keys("2]", "Enter", "xs", "Enter")
        screen = try tmux.wait { $0.contains("[1, 2]\n[7]>") }
        #expect(screen.contains("[6]> xs\n[1, 2]\n[7]>"), "\(screen)")

        // A failing command does not end the session either; Ctrl-D does.
        try tmux.keys("shwo patients", "Enter")
        screen = try tmux.wait { $0.contains("did you mean 'show'?") }
        #expect(screen.contains("[7]:1:1: error: unknown verb 'shwo'"))
        try tmux.keys("C-d")
        _ = try tmux.wait(5) { $0.isEmpty }   // the pane closes when medrepl exits
        let saved = (try? String(contentsOfFile: history, encoding: .utf8)) ?? ""
        #expect(saved.contains("patients"), "history not written")
    }
}

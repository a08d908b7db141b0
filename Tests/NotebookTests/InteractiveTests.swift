import Foundation
import TestSupport
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
            try NotebookFixtures.run(tmux, ["-L", name] + args, timeout: 30).out
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
        guard let binary = NotebookFixtures.binary else { print("skipped: the medrepl binary is not built next to the tests"); return }
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

    /// Starts medrepl in a fresh tmux pane of its own, in the repository folder; returns the pane and a cleanup.
    static func start(columns: Int = 160, rows: Int = 50) throws -> (Tmux, () -> Void) {
        let tmux = Tmux(tmux: try #require(tmuxPath)), binary = try #require(NotebookFixtures.binary)
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-home-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        try tmux.call(["new-session", "-d", "-s", tmux.name, "-x", "\(columns)", "-y", "\(rows)", "-c", Repository.root.path,
                       "env MEDREPL_HISTORY=\(home.path)/history HOME=\(home.path) '\(binary.path)'"])
        // The server and the pane's medrepl by pid too: a kill-server that fails (a loaded machine) must not
        // leave them running after the suite.
        let pids = (try? tmux.call(["display-message", "-p", "-t", tmux.name, "#{pid} #{pane_pid}"]))?
            .split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { pid_t($0) } ?? []
        return (tmux, {
            _ = try? tmux.call(["kill-server"])
            for pid in pids where pid > 1 {
                // only while the pid is still ours (tmux or medrepl), never a process that reused it
                let command = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
                if command.contains(tmux.name) || command.contains(binary.path) { kill(pid, SIGKILL) }
            }
            try? FileManager.default.removeItem(at: home)
        })
    }

    /// Issue 14's shell findings: no start-up line when all is well, a multi-line statement recalled whole,
    /// completion of fields after a completed name and of model names, hints for other shells' words, and
    /// `vars` keeping a long text to one line.
    @Test(.enabled(if: tmuxPath != nil && NotebookFixtures.binary != nil, "needs tmux and the medrepl binary"))
    func historyCompletionHintsAndStartUp() throws {
        let (tmux, stop) = try Self.start()
        defer { stop() }
        var screen = try tmux.wait { $0.contains("[1]>") }
        let firstLine = screen.split(separator: "\n").first.map(String.init) ?? ""
        // Only a kernel below the CPU (kept or repaired) is worth a line before the banner.
        #expect(firstLine.hasPrefix("medrepl ") || firstLine.contains("below this CPU") || firstLine.contains("repaired"), "\(screen)")

        // A statement over two lines is one history entry: Up brings it back on one line.
        try tmux.keys("xs = [1,", "Enter", "2]", "Enter")
        screen = try tmux.wait { $0.contains("[2]>") }
        try tmux.keys("Up")
        screen = try tmux.wait { $0.contains("[2]> xs = [1, 2]") }
        #expect(screen.contains("[2]> xs = [1, 2]"), "not recalled whole:\n\(screen)")
        try tmux.keys("C-u", "data = load_dataset data/medqa_small.json", "Enter")
        screen = try tmux.wait { $0.contains("[3]>") }

        // A completed object name takes no space, so its fields complete after a `.`.
        try tmux.keys("show dat", "Tab")
        screen = try tmux.wait { $0.contains("[3]> show data") }
        try tmux.keys(".co", "Tab")
        screen = try tmux.wait { $0.contains("show data.columns") }
        #expect(screen.contains("[3]> show data.columns"), "field not completed:\n\(screen)")
        // The default model's name completes like a file.
        try tmux.keys("C-u", "load_model smo", "Tab")
        screen = try tmux.wait { $0.contains("load_model smollm2") }
        #expect(screen.contains("[3]> load_model smollm2"), "model name not completed:\n\(screen)")

        try tmux.keys("C-u", "clear", "Enter")
        screen = try tmux.wait { $0.contains("[4]>") }
        #expect(screen.contains("Ctrl-L") && !screen.contains("quote text"), "\(screen)")
        try tmux.keys("long = \"\(String(repeating: "word ", count: 80))\"", "Enter", "vars", "Enter")
        screen = try tmux.wait { $0.contains("[6]>") }
        let listed = screen.split(separator: "\n").filter { $0.hasPrefix("long ") }
        #expect(listed.count == 1 && listed[0].hasSuffix("(400 characters; show NAME prints it)") && listed[0].count < 160, "\(screen)")
    }

    /// The replay promise as a user meets it (issue 14): a train stopped with Ctrl-C, the same train again,
    /// a reply stopped with Ctrl-C, then `save`; `run --check` replays the saved notebook without a
    /// difference. On the way, the progress bar never shares a line with the table.
    @Test(.enabled(if: tmuxPath != nil && NotebookFixtures.binary != nil && Repository.smolLM2 != nil,
                   "needs tmux, the medrepl binary and SmolLM2 in models/ (bash scripts/install.sh)"))
    func aSessionWithCtrlCSavesAndReplaysWithCheck() throws {
        let (tmux, stop) = try Self.start()
        defer { stop() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-pty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try tmux.wait { $0.contains("[1]>") }
        let setup = ["model = load_model smollm2", "cfg = lora_config r=4 lora_alpha=8 lora_dropout=0", "apply_lora model cfg",
                     "data = load_dataset \(Repository.root.path)/data/medqa_small.json", "part = select data 0 12",
                     "texts = format_prompts part",
                     "tokens = tokenize_dataset texts model max_length=96",
                     "args = training_args output_dir=\(dir.path)/out max_steps=6 logging_steps=1 save_steps=0 gradient_accumulation_steps=2",
                     "trainer = make_trainer model args tokens"]
        for line in setup { try tmux.keys(line, "Enter") }
        var screen = try tmux.wait(60) { $0.contains("[10]>") }
        #expect(screen.contains("[10]>"), "set-up did not finish:\n\(screen)")

        try tmux.keys("train trainer curve=false", "Enter")
        screen = try tmux.wait(60) { $0.contains("   2 | ") }
        try tmux.keys("C-c")
        screen = try tmux.wait(60) { $0.contains("[11]>") }
        #expect(screen.contains("; the trained adapter is kept; run train again to continue\ninterrupted\n[11]>"), "\(screen)")
        try tmux.keys("train trainer curve=false", "Enter")
        screen = try tmux.wait(60) { $0.contains("[12]>") }
        #expect(screen.contains("'epoch': 1.0}"), "the second train did not finish:\n\(screen)")
        try tmux.keys("ask model \"Explain the causes of anemia in detail.\" max_new_tokens=300", "Enter")
        screen = try tmux.wait(60) { $0.contains("Anemia") || $0.contains("anemia is") }
        usleep(500_000)
        try tmux.keys("C-c")
        screen = try tmux.wait(30) { $0.contains("[13]>") }
        #expect(screen.contains("(stopped)\n[13]>"), "\(screen)")

        // The bar owns its line: table rows and the table header start lines of their own.
        let all = try tmux.call(["capture-pane", "-p", "-J", "-S", "-200", "-t", tmux.name])
        for line in all.split(separator: "\n") where line.contains("Step | Training Loss") {
            #expect(line == "Step | Training Loss", "a bar shares a line: \(line)")
        }
        for line in all.split(separator: "\n") where line.hasPrefix("train ") {
            #expect(line.hasSuffix(" tok/s") || line.hasSuffix("step/s]") || line.hasSuffix("s/step]"), "a bar shares a line: \(line)")
        }
        // Rates after the resume count this run's steps only (a bar starting at step 3 once showed 665668 step/s).
        for line in all.split(separator: "\n") where line.hasPrefix("train ") {
            if let rate = line.split(separator: ",").last?.split(separator: " ").first.flatMap({ Double($0) }), line.contains("step/s") {
                #expect(rate < 100, "an impossible rate: \(line)")
            }
        }

        let saved = dir.appendingPathComponent("session.mednb").path
        try tmux.keys("save \(saved)", "Enter")
        screen = try tmux.wait(10) { $0.contains("[14]>") }
        #expect(screen.contains("saved 12 cells to"), "\(screen)")
        let text = (try? String(contentsOfFile: saved, encoding: .utf8)) ?? ""
        #expect(text.contains("train trainer curve=false until_step="), "\(text)")
        #expect(text.contains("max_new_tokens=") && !text.contains("max_new_tokens=300"), "\(text)")
        var environment = ProcessInfo.processInfo.environment
        environment["MEDREPL_MODEL_DIR"] = try #require(Repository.smolLM2).deletingLastPathComponent().path
        let replay = try NotebookFixtures.run(try #require(NotebookFixtures.binary), ["run", saved, "--check"], environment: environment, timeout: 240)
        #expect(replay.status == 0 && replay.out.contains("12 cells checked, 0 differ - ok"), "\(replay.out)\n\(replay.err)\n\(text)")
    }
}

import Foundation
import Kernels
import Language
import Notebook
import Shell
import Testing

@Suite struct CompletionTests {
    func completer() -> (Completer, URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-complete-\(getpid())")
        try? FileManager.default.createDirectory(at: dir.appendingPathComponent("notebooks"), withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: dir.appendingPathComponent("notebooks/finetune.mednb").path, contents: Data())
        FileManager.default.createFile(atPath: dir.appendingPathComponent("notebooks/readme.txt").path, contents: Data())
        let session = Session(registry: .standard(), output: OutputSink(), environment: ["HOME": dir.path], directory: dir)
        session.set("trainer", .object(FakeTrainer()))
        session.set("rows", .int(3))
        return (Completer(session: session), dir)
    }

    @Test func verbsAndNamesAtTheStart() {
        let (c, _) = completer()
        #expect(c.complete(line: "sh").candidates == ["show", "show_rows", "show_tokens", "shuffle"])
        #expect(c.complete(line: "sho").candidates == ["show", "show_rows", "show_tokens"])
        #expect(c.complete(line: "r").candidates == ["risk_coverage", "rows", "runcell"])
        #expect(c.complete(line: "x = sl").candidates == ["sleep"])
        #expect(c.complete(line: "print 1; he") == (start: 9, candidates: ["help"]))
    }

    @Test func optionsValuesAndObjects() {
        let (c, _) = completer()
        #expect(c.complete(line: "check rows == 3 t").candidates == ["tol="])
        #expect(c.complete(line: "check rows == 3 ignore_case=t").candidates == ["ignore_case=true"])
        #expect(c.complete(line: "check rows ").candidates.contains("contains"))
        #expect(c.complete(line: "show tr").candidates == ["trainer"])
        #expect(c.complete(line: "help che").candidates == ["check", "check_answer"])
        #expect(c.complete(line: "export m").candidates == ["markdown"])
    }

    @Test func fieldsOfLiveObjects() {
        let (c, _) = completer()
        #expect(c.complete(line: "show trainer.ar") == (start: 5, candidates: ["trainer.args"]))
        #expect(c.complete(line: "print trainer.args.").candidates == ["trainer.args.epochs", "trainer.args.learning_rate", "trainer.args.optim"])
        #expect(c.complete(line: "check trainer.args.lea").candidates == ["trainer.args.learning_rate"])
    }

    @Test func filePaths() {
        let (c, _) = completer()
        #expect(c.complete(line: "open no").candidates == ["notebooks/"])
        #expect(c.complete(line: "open notebooks/").candidates == ["notebooks/finetune.mednb"])   // .txt filtered out
        #expect(c.complete(line: "open ~/notebooks/f").candidates == ["~/notebooks/finetune.mednb"])
        #expect(c.complete(line: "export markdown to=notebooks/r").candidates == ["to=notebooks/readme.txt"])
    }
}

/// Test threads come from a pool that blocks asynchronous signals (as libdispatch's workers do),
/// so signals here go to a thread of our own that unblocks SIGINT, as medrepl's main thread has it.
@Suite(.serialized) struct InterruptTests {
    /// Runs `body` on a new thread with SIGINT unblocked; returns that thread's id once it started.
    final class SignalThread {
        let ready = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        var id = pthread_self()
        init(_ body: @escaping () -> Void) {
            let thread = Thread { [self] in
                var set = sigset_t()
                sigemptyset(&set)
                sigaddset(&set, SIGINT)
                pthread_sigmask(SIG_UNBLOCK, &set, nil)
                id = pthread_self()
                ready.signal()
                body()
                done.signal()
            }
            thread.start()
            ready.wait()
        }
    }

    @Test func sigintSetsTheFlagAndCancelsARunningCommand() throws {
        Interrupts.install()
        Interrupts.take()
        let sender = SignalThread { raise(SIGINT) }
        #expect(sender.done.wait(timeout: .now() + 5) == .success)
        #expect(Interrupts.isPending)
        let (session, _) = NotebookFixtures.session(receivesInterrupts: true)
        #expect(throws: CancelledError.self) { try session.run("sleep 5") }
        #expect(!Interrupts.isPending)
        try session.run("sleep 0.01")   // the next command runs normally
    }

    @Test func aBlockingReadReturnsEINTRInsteadOfRestarting() throws {
        Interrupts.install()
        Interrupts.take()
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        var result = 0, error: Int32 = 0
        let reader = SignalThread {
            var byte: UInt8 = 0
            result = read(fds[0], &byte, 1)   // nothing is ever written: only the signal can end this read
            error = errno
        }
        usleep(200_000)
        pthread_kill(reader.id, SIGINT)
        let finished = reader.done.wait(timeout: .now() + 5)
        if finished != .success { write(fds[1], "x", 1); _ = reader.done.wait(timeout: .now() + 5) }
        #expect(finished == .success, "read was restarted after SIGINT")
        #expect(result == -1 && error == EINTR)
        #expect(Interrupts.take())
    }

    @Test func sleepStopsWithinAFractionOfASecond() throws {
        Interrupts.install()
        Interrupts.take()
        let (session, _) = NotebookFixtures.session(receivesInterrupts: true)
        let start = Date()
        let signaller = Thread { usleep(100_000); Interrupts.request() }
        signaller.start()
        #expect(throws: CancelledError.self) { try session.run("sleep 30") }
        #expect(Date().timeIntervalSince(start) < 2)
    }
}

@Suite struct CommandLineTests {
    func medrepl(_ args: [String], stdin: String? = nil, isa: String? = nil) throws -> (status: Int32, out: String, err: String)? {
        guard let binary = NotebookFixtures.binary else { return nil }
        var env = ProcessInfo.processInfo.environment
        env["MEDREPL_NO_BLAS_FIX"] = "1"
        if let isa { env["MEDREPL_ISA"] = isa }
        return try NotebookFixtures.run(binary, args, stdin: stdin, environment: env)
    }

    @Test func versionHelpAndUnknownFlags() throws {
        guard let version = try medrepl(["--version"]) else { print("skipped: the medrepl binary is not built next to the tests"); return }
        #expect(version.status == 0 && version.out == "medrepl 0.1.0\n")
        let help = try #require(try medrepl(["--help"]))
        #expect(help.status == 0 && help.out.contains("medrepl run NOTEBOOK.mednb... [--check]"))
        let bad = try #require(try medrepl(["--verison"]))
        #expect(bad.status == 2 && bad.err == "medrepl: unknown option '--verison'; did you mean '--version'?\n(see medrepl --help)\n")
        let badRun = try #require(try medrepl(["run", "x.mednb", "--chek"]))
        #expect(badRun.status == 2 && badRun.err.contains("unknown option '--chek' for run; did you mean '--check'?"))
    }

    @Test func deviceReportsTheCPUAndTheBLASKernel() throws {
        guard let device = try medrepl(["device", "seconds=0.05", "n=128"]) else { print("skipped: the medrepl binary is not built next to the tests"); return }
        #expect(device.status == 0)
        let lines = device.out.split(separator: "\n").map(String.init)
        #expect(lines.first { $0.hasPrefix("cpu ") } != nil)
        #expect(lines.first { $0.hasPrefix("blas ") }?.contains("OpenBLAS core \(BLAS.coreName)") == true)
        #expect(lines.first { $0.hasPrefix("sgemm ") }?.contains("GFLOPS (n=128)") == true)
        #expect(lines.first { $0.hasPrefix("kernels ") }?.contains("\(KernelLevel.process)") == true, "\(lines)")
    }

    /// MEDREPL_ISA lowers the kernel level for the whole process, `device` says so, a name that is not a
    /// level gets one line at start-up, and bf16 arithmetic below avx512bf16 says how it computes instead.
    @Test func kernelLevelFromTheEnvironment() throws {
        guard let avx2 = try medrepl(["device", "seconds=0"], isa: "avx2") else { print("skipped: no medrepl binary"); return }
        let prefetch = KernelLevel.cpuStreamPrefetch ? "" : KernelLevel.streamPrefetchOffNote   // the CPU's choice, as a new process has it
        let expected = KernelLevel.cpu >= .avx2 ? "kernels  avx2 (MEDREPL_ISA=avx2; this CPU has \(KernelLevel.cpu)\(prefetch))"
                                                : "kernels  scalar (MEDREPL_ISA=avx2 asks for more than this CPU has; it can only lower the level)"
        #expect(avx2.status == 0 && avx2.out.contains(expected + "\n"), "\(avx2.out)")
        let typo = try #require(try medrepl(["-c", "x = 1"], isa: "avx3"))
        #expect(typo.status == 0 && typo.err == "medrepl: MEDREPL_ISA=avx3 is not a kernel level (scalar, avx2, avx512, avx512bf16); running at \(KernelLevel.cpu)\n")
        let bf16 = try #require(try medrepl(["-c", "m = load_model \"\(ModelFixtures.tinyLlama)\" dtype=bf16 arithmetic=bf16; "
                                             + "a = training_args output_dir=/tmp/medrepl-isa bf16=true"], isa: "avx512"))
        let note = "note: \(KernelLevel.cpu < .avx512bf16 ? "this CPU has no AVX512-BF16" : "the kernel level is avx512 (MEDREPL_ISA)"), "
            + "so bf16 products run in f32: the bf16 weights are widened to f32 in registers and the activations stay f32\n"
        #expect(bf16.status == 0 && bf16.out.components(separatedBy: note).count == 3, "\(bf16.out)\(bf16.err)")
    }

    @Test func commandsFromArgumentStdinAndFiles() throws {
        guard let c = try medrepl(["-c", "x = 2; print x \"${MEDREPL_TEST_UNSET:-ok}\""]) else { print("skipped: no medrepl binary"); return }
        #expect(c.status == 0 && c.out == "2 ok\n")
        let piped = try #require(try medrepl([], stdin: "y = [1, 2]\nshow y\nshwo y\nprint \"not reached\"\n"))
        // A script is parsed whole before it runs: a misspelt verb on line 3 stops it before line 1 runs.
        #expect(piped.status == 1)
        #expect(piped.out == "")
        #expect(piped.err == "<stdin>:3:1: error: unknown verb 'shwo'\n  shwo y\n  ^~~~\n  did you mean 'show'?\n")
        let notebook = try #require(try medrepl(["run", NotebookFixtures.fixture("basics.mednb").path, "--check"]))
        #expect(notebook.status == 0, "\(notebook.out)\(notebook.err)")
        #expect(notebook.out.hasSuffix("5 cells checked, 0 differ - ok\n"))
        let both = try #require(try medrepl(["run", NotebookFixtures.fixture("basics.mednb").path,
                                             NotebookFixtures.fixture("stops-on-error.mednb").path, "--check"]))
        #expect(both.status == 1)
        #expect(both.out.contains("basics.mednb: 5 cells checked, 0 differ - ok\n"))
        #expect(both.out.contains("stops-on-error.mednb: 2 cells checked, 0 differ, stopped at 'broken' - FAILED\n"))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-cli-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = dir.appendingPathComponent("steps.txt").path
        try "# a command file\nr = 16\ncheck r == 16\n".write(toFile: script, atomically: true, encoding: .utf8)
        let file = try #require(try medrepl(["run", script]))
        #expect(file.status == 0 && file.out == "ok: r == 16\n")
        let badNotebook = dir.appendingPathComponent("bad.mednb").path
        try "%% mednb 1\n\n%% cell a\n  $ print 1\nnot indented\n".write(toFile: badNotebook, atomically: true, encoding: .utf8)
        let bad = try #require(try medrepl(["run", badNotebook, "--check"]))
        #expect(bad.status == 1 && bad.err.hasPrefix("\(badNotebook):5: in a command cell"))
        let docs = try #require(try medrepl(["docs"]))
        #expect(docs.out == Help.languageReference(Registry.standard()) + "\n")
    }
}

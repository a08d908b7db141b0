import Foundation
import Synchronization

/// Ctrl-C handling: a SIGINT handler that only counts presses in an atomic, and the checks
/// long-running verbs make between steps.
///
/// The handler is installed with `sigaction` and no `SA_RESTART`, so a blocking `read` (the
/// shell's prompt) returns `EINTR` and the shell can clear its line. Three presses that nothing
/// consumed end the process (exit status 130): the way out of a verb that never checks.
///
/// ```swift
/// Interrupts.install()
/// for step in 0..<steps { try session.checkCancelled(); train(step) }
/// ```
public enum Interrupts {
    private static let pending = Atomic<Int>(0)

    /// Installs the SIGINT handler (idempotent).
    public static func install() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            let presses = Interrupts.pending.add(1, ordering: .sequentiallyConsistent).newValue
            if presses >= 3 {
                let message = "\nmedrepl: interrupted three times, quitting\n"
                _ = message.withCString { write(STDERR_FILENO, $0, strlen($0)) }
                _exit(130)
            }
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0   // no SA_RESTART: blocking reads return EINTR
        sigaction(SIGINT, &action, nil)
        // A parent may have started us with SIGINT blocked (a thread pool, a tmux server started
        // from one); unblock it on the calling thread, which is the one that runs cells.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// True when Ctrl-C was pressed and not yet consumed.
    public static var isPending: Bool { pending.load(ordering: .sequentiallyConsistent) > 0 }

    /// Consumes a pending interrupt; returns whether there was one.
    @discardableResult
    public static func take() -> Bool { pending.exchange(0, ordering: .sequentiallyConsistent) > 0 }

    /// Marks an interrupt as if Ctrl-C was pressed (tests, or a verb cancelling itself).
    public static func request() { pending.add(1, ordering: .sequentiallyConsistent) }
}

import Foundation
import Language

/// A time limit on the cell a session is running: once `seconds` pass, it interrupts the session as
/// Ctrl-C would (`Session.interrupt()`), so the running verb stops at its next cancellation check
/// (`train`, `evaluate`, `sleep` and the other long verbs check between steps).
///
/// ```swift
/// let limit = TimeLimit(seconds: 60, session: session)
/// _ = session.runCaptured("train trainer", file: "[cell]", firstLine: 1)
/// if limit.end() { print("stopped after 60 s") }
/// ```
final class TimeLimit {
    let seconds: Double
    private let session: Session
    private let condition = NSCondition()
    private var ended = false
    private var fired = false

    /// Starts the clock.
    init(seconds: Double, session: Session) {
        self.seconds = seconds
        self.session = session
        let deadline = Date().addingTimeInterval(seconds)
        let watcher = Thread { [self] in
            condition.lock()
            while !ended && Date() < deadline { _ = condition.wait(until: deadline) }
            if !ended {
                fired = true
                session.interrupt()
            }
            condition.unlock()
        }
        watcher.start()
    }

    /// True once the limit has stopped the cell (its remaining commands should not run).
    var expired: Bool {
        condition.lock(); defer { condition.unlock() }
        return fired
    }

    /// Stops the clock; returns whether the limit was reached. An interrupt the limit made and the cell
    /// did not consume (it ended at that moment) is taken back, so it cannot stop the next cell.
    func end() -> Bool {
        condition.lock()
        ended = true
        condition.signal()
        let reached = fired
        condition.unlock()
        if reached { _ = session.takeInterrupt() }
        return reached
    }
}

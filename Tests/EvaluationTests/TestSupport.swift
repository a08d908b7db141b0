import Foundation

/// A clock that advances a fixed step per reading, so timings in reports are exact.
final class SteppingClock: @unchecked Sendable {
    private let lock = NSLock()
    private var now = 0.0
    let step: Double
    init(step: Double) { self.step = step }
    func read() -> Double {
        lock.lock(); defer { lock.unlock() }
        let t = now
        now += step
        return t
    }
}

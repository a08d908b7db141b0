import Foundation

/// The repository root: the nearest folder above this file that holds Package.swift.
func repoRoot(_ file: String = #filePath) -> URL {
    var dir = URL(fileURLWithPath: file).deletingLastPathComponent()
    while dir.path != "/" {
        if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) { return dir }
        dir = dir.deletingLastPathComponent()
    }
    return URL(fileURLWithPath: file).deletingLastPathComponent()
}

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

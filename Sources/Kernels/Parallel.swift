import Foundation

/// Row-parallel loops for the elementwise kernels.
///
/// Work is split into one contiguous range of rows per core, and only when there is enough of it:
/// waking threads costs a few microseconds, which would dominate a one-token decode step.
///
/// ```swift
/// Parallel.rows(n, workPerRow: c) { range in
///     for r in range { ... }
/// }
/// ```
public enum Parallel {
    /// Threads used by the kernels (the machine's active cores).
    nonisolated(unsafe) public static var threads = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// Below this many scalar operations in total a loop runs on the calling thread.
    nonisolated(unsafe) public static var minimumWork = 1 << 15

    /// Runs `body` over `0..<count` split into contiguous ranges, on several threads when
    /// `count * workPerRow` is at least `minimumWork`.
    @inlinable
    public static func rows(_ count: Int, workPerRow: Int, _ body: (Range<Int>) -> Void) {
        let chunks = Swift.min(threads, count)
        if chunks <= 1 || count * workPerRow < minimumWork {
            if count > 0 { body(0..<count) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: chunks) { i in
            let start = count * i / chunks
            let end = count * (i + 1) / chunks
            if start < end { body(start..<end) }
        }
    }

    /// Runs `body(i)` for each of `count` independent tasks, spread over the threads when the
    /// total work is large enough.
    @inlinable
    public static func tasks(_ count: Int, workPerTask: Int, _ body: (Int) -> Void) {
        rows(count, workPerRow: workPerTask) { range in
            for i in range { body(i) }
        }
    }
}

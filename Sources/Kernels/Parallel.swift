import CKernels
import Foundation

/// Row-parallel loops for the elementwise kernels.
///
/// Work is split into a few contiguous ranges of rows per core, and only when there is enough of it.
/// The ranges run on CKernels' pool (`mk_pool_run`), whose workers spin briefly between jobs: a
/// one-token decode step is ~250 products of microseconds each, and waking a Dispatch worker
/// through a futex for every one of them cost ~20% of decode time.
///
/// ```swift
/// Parallel.rows(n, workPerRow: c) { range in
///     for r in range { ... }
/// }
/// ```
public enum Parallel {
    /// Threads used by the kernels (the machine's active cores).
    nonisolated(unsafe) public static var threads = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// Whether `rows` runs on CKernels' spinning pool (false: always Dispatch's concurrentPerform).
    nonisolated(unsafe) public static var usesSpinningPool = true
    /// Contiguous ranges per thread in `rows`.
    nonisolated(unsafe) public static var chunksPerThread = 4
    /// Below this many scalar operations in total a loop runs on the calling thread.
    nonisolated(unsafe) public static var minimumWork = 1 << 15

    /// Runs `body` over `0..<count` split into contiguous ranges, on several threads when
    /// `count * workPerRow` is at least `minimumWork`.
    public static func rows(_ count: Int, workPerRow: Int, _ body: (Range<Int>) -> Void) {
        if threads <= 1 || count <= 1 || count * workPerRow < minimumWork {
            if count > 0 { body(0..<count) }
            return
        }
        // A few chunks per thread, claimed as each thread gets free: a worker that starts late
        // (or a core shared with OpenBLAS's threads) leaves less of the job waiting for it.
        let chunks = Swift.min(threads * chunksPerThread, count)
        withoutActuallyEscaping(body) { body in
            var job = RowJob(count: count, chunks: chunks, body: body)
            // The spinning pool first (no futex wake-up per call); Dispatch when another thread has it.
            let ranOnPool = usesSpinningPool && withUnsafeMutablePointer(to: &job) { job in
                mk_pool_run(chunks, Int32(threads), { context, chunk in
                    context!.assumingMemoryBound(to: RowJob.self).pointee.run(chunk: chunk)
                }, job) == 1
            }
            if !ranOnPool {
                // Dispatch's threads run at the caller's kernel level, as the pool's workers do
                let level = KernelLevel.current
                DispatchQueue.concurrentPerform(iterations: chunks) { chunk in KernelLevel.inherit(level) { job.run(chunk: chunk) } }
            }
        }
    }

    /// One `rows` call as the C pool sees it: chunk i is the i-th of `chunks` contiguous ranges.
    struct RowJob {
        let count: Int, chunks: Int
        let body: (Range<Int>) -> Void
        func run(chunk i: Int) {
            let start = count * i / chunks, end = count * (i + 1) / chunks
            if start < end { body(start..<end) }
        }
    }

    /// Runs `body(i)` for each of `count` independent tasks, spread over the threads when the
    /// total work is large enough.
    public static func tasks(_ count: Int, workPerTask: Int, _ body: (Int) -> Void) {
        rows(count, workPerRow: workPerTask) { range in
            for i in range { body(i) }
        }
    }
}

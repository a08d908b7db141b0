import Foundation
import Synchronization
import Testing
import Kernels

/// `Parallel.rows` on the spinning pool: every row exactly once, whoever runs it, including calls
/// made from inside a job and calls from several threads at once (one gets the pool, the others
/// fall back to Dispatch).
@Suite struct ParallelTests {
    /// Counts how often each row was visited.
    final class Visits: @unchecked Sendable {
        let counts: UnsafeMutablePointer<Int32>
        let count: Int
        let lock = NSLock()   // a double visit from two threads must not be lost to a race
        init(_ count: Int) {
            self.count = count
            counts = .allocate(capacity: count)
            counts.initialize(repeating: 0, count: count)
        }
        deinit { counts.deallocate() }
        func visit(_ range: Range<Int>) {
            lock.lock()
            for r in range { counts[r] += 1 }
            lock.unlock()
        }
        var allOnce: Bool { (0..<count).allSatisfy { counts[$0] == 1 } }
    }

    @Test func everyRowOnceForManySizes() {
        for count in [2, 3, 7, 8, 9, 64, 1001] {
            for _ in 0..<50 {
                let visits = Visits(count)
                Parallel.rows(count, workPerRow: Parallel.minimumWork) { visits.visit($0) }
                #expect(visits.allOnce, "count \(count)")
            }
        }
    }

    /// Back-to-back jobs of different sizes while another thread competes for the cores: a worker that read
    /// the next job's chunk count while the previous ticket still looked open ran a chunk of the new job
    /// before it was published (the row twice, and the caller returned while its closure still ran:
    /// Swift stopped the process with "non-escaping closure has escaped" during batched decode).
    @Test func jobsOfAlternatingSizesUnderLoad() {
        let stop = Atomic<Bool>(false)
        let competitor = Thread { while !stop.load(ordering: .relaxed) { for _ in 0..<1000 { _ = sin(Double.random(in: 0...1)) } } }
        competitor.start()
        defer { stop.store(true, ordering: .relaxed) }
        var failures = 0
        let deadline = Date().addingTimeInterval(3)
        var jobs = 0
        while Date() < deadline && failures == 0 {
            for count in [2, 8, 3, 8, 2, 5] {
                let visits = Visits(count)
                Parallel.rows(count, workPerRow: Parallel.minimumWork) { visits.visit($0) }
                if !visits.allOnce { failures += 1 }
                jobs += 1
            }
        }
        #expect(failures == 0, "a row ran twice or not at all (after \(jobs) jobs)")
    }

    @Test func nestedCallsRun() {
        let outer = 6, inner = 37
        let visits = Visits(outer * inner)
        Parallel.rows(outer, workPerRow: Parallel.minimumWork) { range in
            for o in range {
                Parallel.rows(inner, workPerRow: Parallel.minimumWork) { r in
                    visits.visit((o * inner + r.lowerBound)..<(o * inner + r.upperBound))
                }
            }
        }
        #expect(visits.allOnce)
    }

    @Test func concurrentCallersEachGetAllTheirRows() {
        let callers = 4, count = 513
        let visits = (0..<callers).map { _ in Visits(count) }
        DispatchQueue.concurrentPerform(iterations: callers) { c in
            for _ in 0..<200 {
                let v = Visits(count)
                Parallel.rows(count, workPerRow: Parallel.minimumWork) { v.visit($0) }
                if !v.allOnce { return }
            }
            Parallel.rows(count, workPerRow: Parallel.minimumWork) { visits[c].visit($0) }
        }
        #expect(visits.allSatisfy { $0.allOnce })
    }
}

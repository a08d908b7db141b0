import CKernels
import Foundation
import Kernels

/// The machine's ceilings, measured in the same run as the workloads: OpenBLAS sgemm GFLOPS (the MFU
/// denominator) and memory read bandwidth (the bound for one-sequence decoding, which reads every weight once
/// per token).
enum MachineProbe {
    /// Options: --seconds (per measurement, 1), --megabytes (read buffer, 1024).
    static func run(_ o: BenchOptions) -> [String: Any] {
        let seconds = (try? o.double("seconds", 1)) ?? 1
        let cpu = CPUInfo.current
        var sgemm: [String: Double] = [:]
        for n in [1024, 2048] { sgemm["\(n)"] = BLASHealth.measureSGEMM(n: n, seconds: seconds) }
        let megabytes = (try? o.int("megabytes", 1024)) ?? 1024
        return [
            "cpu": cpu.brand, "features": cpu.featureSummary, "blas": BLASHealth.statusLine(),
            "sgemm_gflops": sgemm.values.max() ?? 0, "sgemm_gflops_by_n": sgemm,
            "read_gb_s": readBandwidth(bytes: megabytes << 20, threads: Parallel.threads, seconds: seconds),
            "read_gb_s_1thread": readBandwidth(bytes: megabytes << 20, threads: 1, seconds: seconds),
        ]
    }

    /// Best GB/s (1e9 bytes) of summing a buffer far larger than the caches, split over `threads`
    /// (`mk_read_sum`, which reads ahead as the decode products do).
    static func readBandwidth(bytes: Int, threads: Int, seconds: Double) -> Double {
        let count = bytes / MemoryLayout<Float>.size / 16 * 16
        let buffer = FloatBuffer(count: count, value: 1)
        let p = buffer.pointer
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: threads)
        defer { sums.deallocate() }
        var best = 0.0
        let begin = now()
        repeat {
            let start = now()
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                let lo = count / 16 * t / threads * 16, hi = count / 16 * (t + 1) / threads * 16
                sums[t] = mk_read_sum(p + lo, hi - lo)   // reads ahead as the decode products do
            }
            best = max(best, Double(count * MemoryLayout<Float>.size) / (now() - start) / 1e9)
        } while now() - begin < seconds
        // The sums are read so the loads cannot be dropped.
        if (0..<threads).reduce(Float(0), { $0 + sums[$1] }) < 0 { print("") }
        return best
    }
}

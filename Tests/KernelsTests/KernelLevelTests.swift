import CKernels
import Dispatch
import Foundation
import Kernels
import Testing

/// The kernel level: names, the order, lowering (never raising) on one thread, the level reaching the
/// pool's workers and Dispatch's, and what `device` and the start-up say about MEDREPL_ISA.
@Suite struct KernelLevelTests {
    @Test func namesParseBackAndLevelsAreOrdered() {
        for level in KernelLevel.allCases { #expect(KernelLevel(name: level.description) == level) }
        #expect(KernelLevel(name: "AVX2") == .avx2)
        #expect(KernelLevel(name: "sse4") == nil && KernelLevel(name: "") == nil)
        #expect(KernelLevel.scalar < .avx2 && .avx2 < .avx512 && .avx512 < .avx512bf16)
        #expect(KernelLevel.process <= KernelLevel.cpu)
        #expect(KernelLevel.available.first == .scalar && KernelLevel.available.last == KernelLevel.process)
    }

    /// The level of a CPU from its features: AVX2 needs FMA and F16C too, avx512 needs F, BW, DQ and VL.
    @Test func levelFromFeatures() {
        var f = mk_cpu_features()
        #expect(mk_isa_of(&f) == Int32(MK_ISA_SCALAR))
        f.avx2 = 1; f.fma = 1
        #expect(mk_isa_of(&f) == Int32(MK_ISA_SCALAR))   // no F16C
        f.f16c = 1
        #expect(mk_isa_of(&f) == Int32(MK_ISA_AVX2))
        f.avx512f = 1; f.avx512bw = 1; f.avx512vl = 1
        #expect(mk_isa_of(&f) == Int32(MK_ISA_AVX2))      // no DQ
        f.avx512dq = 1
        #expect(mk_isa_of(&f) == Int32(MK_ISA_AVX512))
        f.avx512_bf16 = 1
        #expect(mk_isa_of(&f) == Int32(MK_ISA_AVX512_BF16))
    }

    /// The f32/bf16 decode products prefetch in software on Intel's CPUs and leave it to the hardware on
    /// AMD's (and Hygon's); `cpuStreamPrefetch` is this CPU's. (That the process starts with it is checked
    /// through the shell's `device` line: in here other tests turn the prefetch on and off in parallel.)
    @Test func streamPrefetchFollowsTheVendor() {
        func prefers(_ vendor: String) -> Bool {
            var f = mk_cpu_features()
            withUnsafeMutableBytes(of: &f.vendor) { buffer in
                for (i, byte) in vendor.utf8.prefix(12).enumerated() { buffer[i] = byte }
            }
            return mk_cpu_prefers_stream_prefetch(&f) != 0
        }
        #expect(prefers("GenuineIntel"))
        #expect(!prefers("AuthenticAMD"))
        #expect(!prefers("HygonGenuine"))
        #expect(KernelLevel.cpuStreamPrefetch == prefers(CPUInfo.current.vendor))
    }

    @Test func withLowersForItsBodyOnlyAndNeverRaises() {
        let before = KernelLevel.current
        KernelLevel.with(.scalar) {
            #expect(KernelLevel.current == .scalar)
            KernelLevel.with(.avx512bf16) { #expect(KernelLevel.current == KernelLevel.process) }
            #expect(KernelLevel.current == .scalar)
        }
        #expect(KernelLevel.current == before)
        #expect(WeightMatrix.bf16ProductsAvailable == (KernelLevel.process == .avx512bf16))
        KernelLevel.with(.avx512) { #expect(!WeightMatrix.bf16ProductsAvailable) }
    }

    /// Records the level every chunk of a `Parallel.rows` call ran at.
    final class Levels: @unchecked Sendable {
        var seen: [KernelLevel] = []
        let lock = NSLock()
        func record() { lock.lock(); seen.append(KernelLevel.current); lock.unlock() }
    }

    @Test func poolAndDispatchWorkersRunAtTheCallersLevel() {
        for usesPool in [true, false] {
            let saved = Parallel.usesSpinningPool
            Parallel.usesSpinningPool = usesPool
            defer { Parallel.usesSpinningPool = saved }
            for level in KernelLevel.available {
                let levels = Levels()
                KernelLevel.with(level) {
                    Parallel.rows(64, workPerRow: Parallel.minimumWork) { _ in levels.record() }
                }
                #expect(!levels.seen.isEmpty && levels.seen.allSatisfy { $0 == level }, "pool \(usesPool), \(level): \(levels.seen)")
            }
        }
        // and afterwards the workers are back at the process level
        let after = Levels()
        Parallel.rows(64, workPerRow: Parallel.minimumWork) { _ in after.record() }
        #expect(after.seen.allSatisfy { $0 == KernelLevel.process })
    }

    @Test func statusAndWarningsNameTheVariable() {
        #expect(KernelLevel.statusLine(environment: [:]).hasPrefix("\(KernelLevel.process) (the best this CPU has"))
        #expect(KernelLevel.startupWarning(environment: [:]) == nil)
        let bad = ["MEDREPL_ISA": "sse9"]
        #expect(KernelLevel.statusLine(environment: bad).contains("MEDREPL_ISA=sse9 is not a level, use one of scalar|avx2|avx512|avx512bf16"))
        #expect(KernelLevel.startupWarning(environment: bad) == "medrepl: MEDREPL_ISA=sse9 is not a kernel level (scalar, avx2, avx512, avx512bf16); running at \(KernelLevel.process)")
        #expect(KernelLevel.startupWarning(environment: ["MEDREPL_ISA": "scalar"]) == nil)
        if KernelLevel.cpu < .avx512bf16 {
            #expect(KernelLevel.startupWarning(environment: ["MEDREPL_ISA": "avx512bf16"])?.contains("above what this CPU has") == true)
        }
    }
}

/// Runs `body` with the decode products' software prefetch off, then on (each CPU uses one; both are
/// compiled everywhere, so both are checked everywhere), and puts back this CPU's choice.
func withEachStreamPrefetch(_ body: (Bool) -> Void) {
    let cpuChoice = KernelLevel.streamPrefetch
    defer { KernelLevel.streamPrefetch = cpuChoice }
    for prefetch in [false, true] {
        KernelLevel.streamPrefetch = prefetch
        body(prefetch)
    }
}

import Foundation
import Kernels
import Language

extension VerbGroup {
    /// The machine medrepl runs on.
    public static var device: VerbGroup {
        VerbGroup("Device", intro: "The machine medrepl runs on.", verbs: [
            Verb("device", summary: "Show the CPU, its vector units, the kernel level medrepl uses, the BLAS kernel and a measured sgemm speed.",
                 details: "The kernel level is the best this CPU has (scalar, avx2, avx512, avx512bf16); the environment "
                    + "variable MEDREPL_ISA can only lower it. The sgemm figure multiplies two N x N float matrices for about `seconds`; "
                    + "it varies from run to run, so notebooks match it with a `(re)` pattern.",
                 keywords: [Parameter("n", .int, default: .int(1024), help: "matrix size for the sgemm measurement"),
                            Parameter("seconds", .double, default: .double(0.5), help: "how long to measure; 0 skips it")],
                 examples: ["device", "device seconds=0"]) { inv, session in
                let cpu = CPUInfo.current
                let n = try inv.int("n"), seconds = try inv.double("seconds")
                guard n >= 16 && n <= 8192 else { throw inv.error("n must be between 16 and 8192", at: "n") }
                session.writeLine("cpu      \(cpu.brand.isEmpty ? cpu.vendor : cpu.brand) (family \(cpu.family), model \(cpu.model), \(cpu.logicalCores) logical cores)")
                session.writeLine("vector   \(cpu.featureSummary)")
                session.writeLine("kernels  \(KernelLevel.statusLine(environment: session.environment))")
                session.writeLine("blas     \(BLASHealth.statusLine(environment: session.environment)), \(BLAS.threadingDescription)")
                session.writeLine("library  \(BLAS.configuration.trimmingCharacters(in: .whitespaces))")
                if seconds > 0 {
                    try session.checkCancelled()
                    let gflops = BLASHealth.measureSGEMM(n: n, seconds: seconds)
                    session.writeLine(String(format: "sgemm    %.1f GFLOPS (n=%d)", gflops, n))
                    return .double((gflops * 10).rounded() / 10)
                }
                return .none
            }.quiet(),
        ])
    }
}

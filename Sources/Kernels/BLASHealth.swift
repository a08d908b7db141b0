import Foundation

/// Checks that OpenBLAS runs kernels that match the processor, and repairs it when not.
///
/// Debian's OpenBLAS 0.3.21 does not recognise recent Intel processors and silently falls back to
/// its generic "Prescott" kernel (about a tenth of the speed). The kernel is chosen in a library
/// constructor before `main`, so the only fix is to set `OPENBLAS_CORETYPE` and re-execute.
///
/// ```swift
/// BLASHealth.repairByReexecutingIfNeeded()   // first thing in main
/// ```
public enum BLASHealth {
    /// The environment variable set on the re-executed process, so it never loops and can say what it did.
    public static let reexecMarker = "MEDREPL_BLAS_REPAIRED_FROM"
    /// Set to 1 to keep whatever kernel OpenBLAS chose.
    public static let optOutVariable = "MEDREPL_NO_BLAS_FIX"

    /// How capable a kernel family (or a CPU) is: 0 generic SSE, 1 AVX, 2 AVX2+FMA, 3 AVX-512.
    public static func level(ofCore name: String) -> Int {
        switch name.lowercased() {
        case "skylakex", "cooperlake", "sapphirerapids": return 3
        case "haswell", "zen", "excavator", "steamroller": return 2
        case "sandybridge", "bulldozer", "piledriver": return 1
        default: return 0   // prescott, core2, penryn, dunnington, nehalem, atom, katmai, ...
        }
    }

    public static func level(ofCPU cpu: CPUInfo) -> Int {
        if cpu.hasAVX512 { return 3 }
        if cpu.avx2 && cpu.fma { return 2 }
        return 0
    }

    /// The `OPENBLAS_CORETYPE` that best fits the CPU, or nil for a CPU with no AVX2.
    public static func recommendedCore(for cpu: CPUInfo) -> String? {
        switch level(ofCPU: cpu) {
        case 3: return "SkylakeX"
        case 2: return cpu.vendor == "AuthenticAMD" ? "Zen" : "Haswell"
        default: return nil
        }
    }

    /// What to do about a core name on a CPU.
    public enum Verdict: Equatable, Sendable {
        /// The kernel fits the processor.
        case healthy
        /// The kernel is below what the processor can do; re-execute with this core type.
        case repair(coreType: String)
        /// The kernel is below the processor, but the user chose it (OPENBLAS_CORETYPE set or opt-out).
        case userChoice
    }

    public static func verdict(coreName: String, cpu: CPUInfo, environment: [String: String]) -> Verdict {
        guard let target = recommendedCore(for: cpu), level(ofCore: coreName) < level(ofCPU: cpu) else { return .healthy }
        if environment[optOutVariable] == "1" || environment["OPENBLAS_CORETYPE"] != nil || environment[reexecMarker] != nil {
            return .userChoice
        }
        return .repair(coreType: target)
    }

    /// If OpenBLAS chose a generic kernel, re-executes this program with `OPENBLAS_CORETYPE` set.
    /// Returns only when no repair was needed or possible.
    public static func repairByReexecutingIfNeeded() {
        let env = ProcessInfo.processInfo.environment
        guard case .repair(let coreType) = verdict(coreName: BLAS.coreName, cpu: .current, environment: env) else { return }
        setenv("OPENBLAS_CORETYPE", coreType, 1)
        setenv(reexecMarker, BLAS.coreName, 1)
        let args = CommandLine.arguments
        var cArgs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) }
        cArgs.append(nil)
        execv("/proc/self/exe", &cArgs)
        // execv returned: it failed. Carry on with the slow kernel, and say so in `device`.
        unsetenv("OPENBLAS_CORETYPE")
    }

    /// A sentence about the BLAS state of this process, for `device` and the start-up banner.
    public static func statusLine(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let core = BLAS.coreName
        if let from = environment[reexecMarker] {
            return "OpenBLAS core \(core) (repaired: the library chose \(from) for this CPU; medrepl set OPENBLAS_CORETYPE=\(core))"
        }
        switch verdict(coreName: core, cpu: .current, environment: environment) {
        case .healthy: return "OpenBLAS core \(core)"
        case .userChoice:
            let target = recommendedCore(for: .current) ?? "a better core"
            let why = environment["OPENBLAS_CORETYPE"].map { "OPENBLAS_CORETYPE=\($0) is set" } ?? "\(optOutVariable)=1 is set"
            return "OpenBLAS core \(core) (below this CPU, which could run \(target); kept because \(why))"
        case .repair(let t): return "OpenBLAS core \(core) (below this CPU; \(t) would be faster)"
        }
    }

    /// The start-up banner's line: `statusLine` when something is or was wrong with the BLAS kernel (a kernel
    /// below the CPU, kept or repaired), nil when all is well (then `device` alone says which kernel runs).
    public static func startupNotice(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if environment[reexecMarker] == nil,
           case .healthy = verdict(coreName: BLAS.coreName, cpu: .current, environment: environment) { return nil }
        return statusLine(environment: environment)
    }

    /// Measures single-precision GEMM throughput in GFLOPS on square matrices of size `n`.
    public static func measureSGEMM(n: Int = 1024, seconds: Double = 0.5) -> Double {
        let a = FloatBuffer(count: n * n, value: 0.5), b = FloatBuffer(count: n * n, value: 0.25)
        let c = FloatBuffer(count: n * n)
        BLAS.sgemm(m: n, n: n, k: n, a: a.pointer, b: b.pointer, c: c.pointer)   // warm-up: threads, pages
        var runs = 0
        let start = DispatchTime.now().uptimeNanoseconds
        var elapsed = 0.0
        repeat {
            BLAS.sgemm(m: n, n: n, k: n, a: a.pointer, b: b.pointer, c: c.pointer)
            runs += 1
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        } while elapsed < seconds
        return Double(runs) * 2 * Double(n * n * n) / elapsed / 1e9
    }
}

import CKernels

/// The instruction-set level CKernels' kernels run at: the CPU's best, lowered (never raised) by the
/// `MEDREPL_ISA` environment variable for the process and by `KernelLevel.with` for one thread.
///
/// ```swift
/// print(KernelLevel.current)             // avx512bf16 on a Zen 5, avx2 on a Zen 3
/// KernelLevel.with(.avx2) { w.forward(x, into: y, n: 1) }   // the AVX2 kernels, on this thread and its pool jobs
/// ```
public enum KernelLevel: Int, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    /// Portable C, whatever the compiler makes of it for baseline x86-64.
    case scalar = 0
    /// AVX2, FMA and F16C: 8 lanes; bf16/f16 weights widened in registers.
    case avx2 = 1
    /// AVX-512 F, BW, DQ and VL: 16 lanes.
    case avx512 = 2
    /// AVX-512 with AVX512-BF16: also the bf16 products of `arithmetic=bf16` and `bf16=true`.
    case avx512bf16 = 3

    public static func < (a: KernelLevel, b: KernelLevel) -> Bool { a.rawValue < b.rawValue }

    /// The name `MEDREPL_ISA` takes.
    public var description: String { String(cString: mk_isa_name(Int32(rawValue))) }

    public init?(name: String) {
        let level = mk_isa_parse(name)
        guard level >= 0 else { return nil }
        self.init(rawValue: Int(level))
    }

    /// The best level this CPU (and its operating system) supports.
    public static var cpu: KernelLevel { KernelLevel(rawValue: Int(mk_isa_cpu()))! }
    /// The process's level: `cpu`, lowered by `MEDREPL_ISA`.
    public static var process: KernelLevel { KernelLevel(rawValue: Int(mk_isa_process()))! }
    /// The level on the calling thread (`process` unless inside `with`).
    public static var current: KernelLevel { KernelLevel(rawValue: Int(mk_isa_level()))! }
    /// Every level the process may run: `scalar` up to `process`.
    public static var available: [KernelLevel] { allCases.filter { $0 <= process } }

    /// What `MEDREPL_ISA` asked for: nil when it is unset.
    public enum Request: Equatable, Sendable { case level(KernelLevel), invalid(String) }
    public static func request(environment: [String: String]) -> Request? {
        guard let value = environment["MEDREPL_ISA"], !value.isEmpty else { return nil }
        return KernelLevel(name: value).map { .level($0) } ?? .invalid(value)
    }

    /// One line: the level in use and why, e.g. "avx2 (MEDREPL_ISA=avx2; this CPU has avx512bf16)".
    public static func statusLine(environment: [String: String]) -> String {
        let names = allCases.map(\.description).joined(separator: "|")
        // from AVX-512 up, quantized weights (q8_0, q4_0, q4_1) multiply with VNNI's vpdpbusd where the CPU has it
        let vnni = process >= .avx512 && CPUInfo.current.avx512vnni ? "; quantized products on AVX512-VNNI" : ""
        let prefetch = process >= .avx2 && !streamPrefetch ? streamPrefetchOffNote : ""
        let why: String
        switch request(environment: environment) {
        case nil:
            why = "the best this CPU has; MEDREPL_ISA=\(names) lowers it"
        case .invalid(let value):
            why = "the best this CPU has; MEDREPL_ISA=\(value) is not a level, use one of \(names)"
        case .level(let asked) where asked > cpu:
            why = "MEDREPL_ISA=\(asked) asks for more than this CPU has; it can only lower the level"
        case .level(let asked):
            why = "MEDREPL_ISA=\(asked); this CPU has \(cpu)"
        }
        return "\(process) (\(why)\(vnni)\(prefetch))"
    }

    /// Whether the decode products of f32/bf16/f16 weights prefetch their bytes in software: this CPU's
    /// choice (not on AMD, whose cores stream them faster alone; CKernels' kernels.h has the figures).
    /// Results are the same either way; the benchmark's `--stream-prefetch 0|1` sets it to measure both.
    public static var streamPrefetch: Bool {
        get { mk_stream_prefetch() != 0 }
        set { mk_set_stream_prefetch(newValue ? 1 : 0) }
    }
    /// This CPU's own choice of `streamPrefetch` (what a process starts with).
    public static var cpuStreamPrefetch: Bool { mk_cpu_stream_prefetch() != 0 }
    /// What `statusLine` adds when the prefetch is off.
    public static let streamPrefetchOffNote = "; f32/bf16 weights read without software prefetch, faster on AMD"

    /// A line for standard error at start-up when `MEDREPL_ISA` cannot be followed; nil when it can
    /// (or is unset).
    public static func startupWarning(environment: [String: String]) -> String? {
        let names = allCases.map(\.description).joined(separator: ", ")
        switch request(environment: environment) {
        case .invalid(let value)?:
            return "medrepl: MEDREPL_ISA=\(value) is not a kernel level (\(names)); running at \(process)"
        case .level(let asked)? where asked > cpu:
            return "medrepl: MEDREPL_ISA=\(asked) is above what this CPU has; running at \(process)"
        default:
            return nil
        }
    }

    /// Runs `body` with the kernels of this thread (and of the pool jobs it starts) at `level`, or at
    /// `process` if that is lower; the previous level is restored afterwards.
    public static func with<T>(_ level: KernelLevel, _ body: () throws -> T) rethrows -> T {
        let previous = mk_isa_override_thread(Int32(level.rawValue))
        defer { mk_isa_override_thread(previous) }
        return try body()
    }

    /// `with(level, body)`, skipping the override when this thread already runs at `level`: a chunk of
    /// work handed to another thread takes the level of the thread that started it this way.
    static func inherit<T>(_ level: KernelLevel, _ body: () throws -> T) rethrows -> T {
        level == current ? try body() : try with(level, body)
    }
}

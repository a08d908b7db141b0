import CKernels
import Foundation

/// What the processor offers: vendor, model and the vector units medrepl cares about.
///
/// ```swift
/// let cpu = CPUInfo.current
/// print(cpu.brand, cpu.featureSummary)   // "AMD EPYC ... AVX2 FMA F16C"
/// ```
public struct CPUInfo: Sendable, Equatable {
    public var vendor: String
    public var brand: String
    public var family: Int
    public var model: Int
    public var avx2: Bool
    public var fma: Bool
    public var f16c: Bool
    public var avx512f: Bool
    public var avx512dq: Bool
    public var avx512bw: Bool
    public var avx512vl: Bool
    public var avx512bf16: Bool
    public var avx512vnni: Bool
    public var amxTile: Bool
    public var amxBF16: Bool
    public var logicalCores: Int

    public init(vendor: String = "", brand: String = "", family: Int = 0, model: Int = 0,
                avx2: Bool = false, fma: Bool = false, f16c: Bool = false,
                avx512f: Bool = false, avx512dq: Bool = false, avx512bw: Bool = false, avx512vl: Bool = false,
                avx512bf16: Bool = false, avx512vnni: Bool = false, amxTile: Bool = false, amxBF16: Bool = false,
                logicalCores: Int = 1) {
        self.vendor = vendor; self.brand = brand; self.family = family; self.model = model
        self.avx2 = avx2; self.fma = fma; self.f16c = f16c
        self.avx512f = avx512f; self.avx512dq = avx512dq; self.avx512bw = avx512bw; self.avx512vl = avx512vl
        self.avx512bf16 = avx512bf16; self.avx512vnni = avx512vnni; self.amxTile = amxTile; self.amxBF16 = amxBF16
        self.logicalCores = logicalCores
    }

    /// The processor this process runs on, read once through CPUID.
    public static let current: CPUInfo = {
        var f = mk_cpu_features()
        mk_cpu_detect(&f)
        let vendor = withUnsafeBytes(of: f.vendor) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        let brand = withUnsafeBytes(of: f.brand) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        return CPUInfo(vendor: vendor, brand: brand.trimmingCharacters(in: .whitespaces),
                       family: Int(f.family), model: Int(f.model),
                       avx2: f.avx2 != 0, fma: f.fma != 0, f16c: f.f16c != 0,
                       avx512f: f.avx512f != 0, avx512dq: f.avx512dq != 0, avx512bw: f.avx512bw != 0, avx512vl: f.avx512vl != 0,
                       avx512bf16: f.avx512_bf16 != 0, avx512vnni: f.avx512_vnni != 0, amxTile: f.amx_tile != 0, amxBF16: f.amx_bf16 != 0,
                       logicalCores: ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// True when AVX-512 F, BW and VL are all usable (what OpenBLAS's SkylakeX kernels need).
    public var hasAVX512: Bool { avx512f && avx512bw && avx512vl }

    /// The vector features present, in a fixed order, for display.
    public var featureSummary: String {
        var names: [String] = []
        if avx2 { names.append("AVX2") }
        if fma { names.append("FMA") }
        if f16c { names.append("F16C") }
        if hasAVX512 { names.append("AVX-512") }
        if avx512vnni { names.append("AVX512-VNNI") }
        if avx512bf16 { names.append("AVX512-BF16") }
        if amxTile { names.append("AMX-TILE") }
        if amxBF16 { names.append("AMX-BF16") }
        return names.isEmpty ? "SSE2 only" : names.joined(separator: " ")
    }
}

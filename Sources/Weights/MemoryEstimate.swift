import Foundation
import Kernels

/// How much memory a model needs, and whether this machine has it, checked before loading so that
/// an oversized model is refused with a message instead of being killed by the kernel.
///
/// ```swift
/// let need = MemoryEstimate.weightBytes(parameters: 1_100_048_384, storage: .bf16)   // 2.2 GB
/// try MemoryEstimate.check(parameters: 1_100_048_384, storage: .bf16, what: "TinyLlama-1.1B-Chat")
/// ```
public enum MemoryEstimate {
    /// Bytes of the weights alone in `storage`.
    public static func weightBytes(parameters: Int, storage: StorageType) -> Int {
        parameters * storage.bytesPerElement
    }

    /// `MemAvailable` from `/proc/meminfo` (or from `meminfo` text when given), in bytes; nil when unknown.
    public static func availableBytes(meminfo: String? = nil) -> Int? {
        guard let text = meminfo ?? (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let kib = Int(fields[1]) else { return nil }
            return kib * 1024
        }
        return nil
    }

    /// Human-readable size: `1.23 GiB`, `45.6 MiB`.
    public static func format(_ bytes: Int) -> String {
        let b = Double(bytes)
        if b >= Double(1 << 30) { return String(format: "%.2f GiB", b / Double(1 << 30)) }
        if b >= Double(1 << 20) { return String(format: "%.1f MiB", b / Double(1 << 20)) }
        return String(format: "%.0f KiB", b / 1024)
    }

    /// Throws a `WeightsError` naming `what` when the weights in `storage` plus `extraBytes` (activations,
    /// KV cache, optimizer state) exceed the available memory. Does nothing when availability is unknown.
    /// Returns the estimate in bytes.
    @discardableResult
    public static func check(parameters: Int, storage: StorageType, extraBytes: Int = 0, what: String,
                             meminfo: String? = nil) throws -> Int {
        let need = weightBytes(parameters: parameters, storage: storage) + extraBytes
        guard let available = availableBytes(meminfo: meminfo) else { return need }
        if need > available {
            var advice = "free memory or choose a smaller model"
            if storage == .f32 { advice = "try dtype=bf16 (half the memory), " + advice }
            throw WeightsError(file: what, field: "memory",
                               "needs about \(format(need)) (\(grouped(parameters)) parameters in \(storage.rawValue)"
                               + (extraBytes > 0 ? " + \(format(extraBytes)) working memory" : "")
                               + ") but only \(format(available)) is available (MemAvailable in /proc/meminfo); \(advice)")
        }
        return need
    }

    /// `1100048384` → `1,100,048,384`.
    public static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }
}

import Foundation
import Kernels
import Support

/// Whether a model's weights fit in this machine's memory, checked before loading so that an oversized
/// model is refused with a message instead of being killed by the kernel (`MemoryInfo` reads what is available).
///
/// ```swift
/// let need = WeightMemory.bytes(parameters: 1_100_048_384, storage: .bf16)   // 2.2 GB
/// try WeightMemory.check(parameters: 1_100_048_384, storage: .bf16, what: "TinyLlama-1.1B-Chat")
/// ```
public enum WeightMemory {
    /// Bytes of the weights alone in `storage`.
    public static func bytes(parameters: Int, storage: StorageType) -> Int {
        storage.bytes(parameters)
    }

    /// Throws a `WeightsError` naming `what` when the weights in `storage` plus `extraBytes` (activations,
    /// KV cache, optimizer state) exceed the available memory (`MemoryInfo.availableBytes(meminfo:)`). Does
    /// nothing when availability is unknown. Returns the estimate in bytes.
    @discardableResult
    public static func check(parameters: Int, storage: StorageType, extraBytes: Int = 0, what: String,
                             meminfo: String? = nil) throws -> Int {
        let need = bytes(parameters: parameters, storage: storage) + extraBytes
        guard let available = MemoryInfo.availableBytes(meminfo: meminfo) else { return need }
        if need > available {
            var advice = "free memory or choose a smaller model"
            if storage == .f32 { advice = "try dtype=bf16 (half the memory), " + advice }
            throw WeightsError(file: what, field: "memory",
                               "needs about \(formatBytes(need)) (\(formatCount(parameters)) parameters in \(storage.rawValue)"
                               + (extraBytes > 0 ? " + \(formatBytes(extraBytes)) working memory" : "")
                               + ") but only \(formatBytes(available)) is available (MemAvailable in /proc/meminfo); \(advice)")
        }
        return need
    }
}

import Foundation

/// What the system says about its memory: `MemAvailable` of `/proc/meminfo`, the memory it can still give a
/// process without swapping. Loads and training check their estimates against it, so that an oversized model
/// or batch is refused with a message instead of being killed by the kernel.
///
/// ```swift
/// if let available = MemoryInfo.availableBytes() { print(formatBytes(available)) }   // "11.84 GiB"
/// MemoryInfo.availableBytes(meminfo: "MemAvailable:    2000000 kB\n")                  // 2_048_000_000
/// ```
public enum MemoryInfo {
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
}

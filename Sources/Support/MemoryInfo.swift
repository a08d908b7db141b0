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
        kibField("MemAvailable:", in: meminfo ?? (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)))
    }

    /// This process's resident memory now (`VmRSS` of `/proc/self/status`, or of `status` text), in bytes; nil
    /// when unknown.
    public static func residentBytes(status: String? = nil) -> Int? {
        kibField("VmRSS:", in: status ?? (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)))
    }

    /// The value of a `NAME:   123 kB` line of a /proc file, in bytes.
    static func kibField(_ name: String, in text: String?) -> Int? {
        guard let text else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name) {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, let kib = Int(fields[1]) else { return nil }
            return kib * 1024
        }
        return nil
    }
}

/// A number of bytes as a person reads it, in binary units: `1.23 GiB` (two decimals), `456.0 MiB` (one),
/// `12 KiB` (whole KiB, rounded down).
///
/// ```swift
/// formatBytes(2_200_096_768)   // "2.05 GiB"
/// formatBytes(5 << 20)         // "5.0 MiB"
/// formatBytes(109_440)         // "106 KiB"
/// ```
public func formatBytes(_ bytes: Int) -> String {
    let b = Double(bytes)
    if b >= 1_073_741_824 { return String(format: "%.2f GiB", b / 1_073_741_824) }
    if b >= 1_048_576 { return String(format: "%.1f MiB", b / 1_048_576) }
    return "\(bytes / 1024) KiB"
}

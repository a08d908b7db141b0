import Foundation
import Testing
import Weights

// `MappedFile.release`: a loader done with a tensor gives its pages back, so loading costs the copies and not
// the copies plus the file; what is read afterwards is still the file's bytes.
@Suite struct MappedFileReleaseTests {
    /// The resident kilobytes of the mapping that starts at `base`, from /proc/self/smaps (nil where there is none).
    static func residentKiB(of base: UnsafeRawPointer) -> Int? {
        // read to the end: /proc files report a size of 0, and a one-shot read stops after a page or so
        guard let handle = FileHandle(forReadingAtPath: "/proc/self/smaps"),
              let smaps = String(data: handle.readDataToEndOfFile(), encoding: .utf8) else { return nil }
        let start = String(UInt(bitPattern: base), radix: 16)
        var inside = false
        for line in smaps.split(separator: "\n") {
            if line.first?.isHexDigit == true && line.contains("-") { inside = line.hasPrefix(start + "-") }
            else if inside && line.hasPrefix("Rss:") { return Int(line.split(separator: " ")[1]) }
        }
        return nil
    }

    @Test func releasedPagesLeaveTheProcessAndReadBackTheSame() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-release-\(getpid()).bin")
        defer { try? FileManager.default.removeItem(at: url) }
        let count = 8 << 20
        try Data((0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 12) }).write(to: url)
        let file = try MappedFile(url: url)
        let all = try file.bytes(at: 0, length: count, field: "all")
        var sum = 0
        for i in stride(from: 0, to: count, by: 4096) { sum &+= Int(all[i]) }   // touch every page
        guard let before = Self.residentKiB(of: file.base!) else {
            print("skipped: /proc/self/smaps is not readable here"); return
        }
        #expect(before >= 8 * 1024 - 64, "the whole mapping is resident after reading it (\(before) KiB)")
        // a range that starts and ends inside pages: only its whole pages go
        let range = try file.bytes(at: 100, length: count - 200, field: "range")
        file.release(range)
        let after = Self.residentKiB(of: file.base!) ?? before
        #expect(after <= 16, "released pages stay resident: \(after) KiB of \(before)")
        #expect(range[5000] == UInt8(truncatingIfNeeded: 5100 &* 31 &+ 5100 >> 12))
        var again = 0
        for i in stride(from: 0, to: count, by: 4096) { again &+= Int(all[i]) }
        #expect(again == sum)
    }
}

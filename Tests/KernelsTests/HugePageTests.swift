import Foundation
import Testing
import Kernels

/// Buffers of 4 MiB and more start on a 2 MiB boundary and ask the kernel for huge pages (`madvise`, which
/// /proc/self/smaps shows as the `hg` flag of their mapping); smaller ones are ordinary 64-byte aligned
/// allocations. (With `usesHugePages` off there is nothing to check this way: the allocator may hand out
/// memory that an earlier buffer had already advised.)
struct HugePageTests {
    /// The VmFlags of the mapping that holds `address`, or nil where /proc/self/smaps cannot be read.
    static func vmFlags(of address: UnsafeRawPointer) -> [String]? {
        // /proc files report size 0, so read them to the end rather than by their size
        guard let handle = FileHandle(forReadingAtPath: "/proc/self/smaps"), let data = try? handle.readToEnd(),
              let smaps = String(data: data, encoding: .utf8) else { return nil }
        let a = UInt(bitPattern: address)
        var inside = false
        for line in smaps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let range = fields.first, range.contains("-"), !range.hasSuffix(":") {
                let ends = range.split(separator: "-").compactMap { UInt($0, radix: 16) }
                inside = ends.count == 2 && ends[0] <= a && a < ends[1]
            } else if inside, fields.first == "VmFlags:" {
                return fields.dropFirst().map(String.init)
            }
        }
        return nil
    }

    @Test func largeBuffersAskForHugePages() throws {
        let big = FloatBuffer(count: 3 << 20)       // 12 MiB
        #expect(UInt(bitPattern: big.pointer) % (2 << 20) == 0)
        big[big.count - 1] = 1
        #expect(big[0] == 0 && big[big.count - 1] == 1)
        let small = FloatBuffer(count: 1000)
        #expect(UInt(bitPattern: small.pointer) % 64 == 0)
        guard FileManager.default.fileExists(atPath: "/sys/kernel/mm/transparent_hugepage/enabled") else {
            print("skipped the VmFlags check: this kernel has no transparent huge pages")
            return
        }
        guard let flags = Self.vmFlags(of: big.pointer) else {
            print("skipped the VmFlags check: /proc/self/smaps is not readable here")
            return
        }
        #expect(flags.contains("hg"), "VmFlags \(flags)")
    }

    /// Large buffers are filled on every core, a block of 1 MiB per piece of work: each element gets the value,
    /// the last partial block too, with one block per chunk of work (6 blocks) and several (38 blocks over the
    /// pool's few chunks per thread). Sizes rather than thread counts: `Parallel.threads` is shared with the
    /// suites running beside this one.
    @Test func largeBuffersAreFilledWhole() {
        for blocks in [5, 37] {
            let b = FloatBuffer(count: (blocks << 18) + 123, value: 2.5)
            var wrong = 0
            for i in 0..<b.count where b[i] != 2.5 { wrong += 1 }
            #expect(wrong == 0, "\(wrong) of \(b.count) elements not filled with \(Parallel.threads) threads")
        }
    }
}

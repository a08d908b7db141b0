import Support
import Testing

@Suite struct MemoryInfoTests {
    @Test func memAvailableInBytes() {
        let meminfo = "MemTotal:       16000000 kB\nMemFree:         1000000 kB\nMemAvailable:    2000000 kB\n"
        #expect(MemoryInfo.availableBytes(meminfo: meminfo) == 2_048_000_000)
        #expect(MemoryInfo.availableBytes(meminfo: "nothing here") == nil)
        #expect(MemoryInfo.availableBytes(meminfo: "MemAvailable: lots kB\n") == nil)
        // This machine's /proc/meminfo parses.
        #expect((MemoryInfo.availableBytes() ?? 0) > 0)
    }
}

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

@Suite struct ResidentMemoryTests {
    @Test func residentMemoryIsReadFromTheStatusFile() {
        #expect(MemoryInfo.residentBytes(status: "Name:\tmedrepl\nVmPeak:\t 9000 kB\nVmRSS:\t    1000 kB\n") == 1_024_000)
        #expect(MemoryInfo.residentBytes(status: "Name:\tmedrepl\n") == nil)
        #expect((MemoryInfo.residentBytes() ?? 0) > 1_000_000)   // this process, on Linux
    }
}

import Support
import Testing

/// The one byte formatter and the one digit grouping: the texts load messages, memory refusals and peft's
/// parameter line are made of.
@Suite struct FormattingTests {
    @Test func bytesInBinaryUnits() {
        #expect(formatBytes(2_200_096_768) == "2.05 GiB")
        #expect(formatBytes(1 << 30) == "1.00 GiB")
        #expect(formatBytes((1 << 30) - 1) == "1024.0 MiB")
        #expect(formatBytes(5 << 20) == "5.0 MiB")
        #expect(formatBytes(1 << 20) == "1.0 MiB")
        // Below a MiB, whole KiB rounded down (the tiny model's load line pins "106 KiB" for 109,440 bytes).
        #expect(formatBytes(109_440) == "106 KiB")
        #expect(formatBytes(1_535) == "1 KiB")
        #expect(formatBytes(1_023) == "0 KiB")
        #expect(formatBytes(0) == "0 KiB")
    }

    @Test func countsGroupedInThrees() {
        #expect(formatCount(1_100_048_384) == "1,100,048,384")
        #expect(formatCount(134_515_008) == "134,515,008")
        #expect(formatCount(4_096) == "4,096")
        #expect(formatCount(999) == "999")
        #expect(formatCount(0) == "0")
        #expect(formatCount(-4_096) == "-4,096")
        #expect(formatCount(-999) == "-999")
        #expect(formatCount(Int.min) == "-9,223,372,036,854,775,808")
    }
}

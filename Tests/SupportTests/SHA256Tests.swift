import Foundation
import Support
import Testing

// SHA-256 against FIPS 180-2's examples (and the one-million-'a' vector), fed whole, in uneven pieces and from a file.

@Suite struct SHA256Tests {
    static let vectors: [(String, String)] = [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        (String(repeating: "a", count: 1_000_000), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
    ]

    @Test func knownDigests() {
        for (text, digest) in Self.vectors { #expect(SHA256.hex(Data(text.utf8)) == digest, "\(text.prefix(10))") }
    }

    @Test func piecesAndFilesGiveTheSameDigest() throws {
        let data = Data((0..<100_003).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        var hasher = SHA256()
        var start = 0, size = 1
        while start < data.count {   // pieces of 1, 2, 3, ... bytes: every offset within a 64-byte block
            let end = min(start + size, data.count)
            hasher.update(data.subdata(in: start..<end))
            start = end; size += 1
        }
        #expect(hasher.hexDigest() == SHA256.hex(data))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-sha-\(UUID().uuidString)")
        try data.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(try SHA256.hex(fileAt: url) == SHA256.hex(data))
        // coreutils agrees, where it is installed
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/sha256sum") {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
            p.arguments = [url.path]
            let pipe = Pipe()
            p.standardOutput = pipe
            try p.run()
            p.waitUntilExit()
            let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(out.hasPrefix(SHA256.hex(data)))
        }
    }
}

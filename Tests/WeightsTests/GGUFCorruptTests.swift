import Foundation
import TestSupport
import Testing
import Weights

/// Builds small GGUF files byte by byte, right or deliberately wrong.
struct GGUFBuilder {
    var magic: UInt32 = 0x4655_4747
    var version: UInt32 = 3
    var kv: [(String, UInt32, Data)] = []
    var tensors: [(name: String, dims: [UInt64], type: UInt32, offset: UInt64)] = []
    var data = Data()
    var tensorCountOverride: UInt64?
    /// Padding before the data section (must agree with `general.alignment` for a valid file).
    var alignment = 32
    var kvCountOverride: UInt64?

    static func string(_ s: String) -> Data {
        var d = Data()
        d.appendLE(UInt64(s.utf8.count))
        d.append(Data(s.utf8))
        return d
    }

    mutating func addString(_ key: String, _ v: String) {
        kv.append((key, 8, Self.string(v)))
    }

    mutating func addUInt32(_ key: String, _ v: UInt32) {
        var d = Data(); d.appendLE(v); kv.append((key, 4, d))
    }

    func bytes() -> Data {
        var out = Data()
        out.appendLE(magic)
        out.appendLE(version)
        out.appendLE(tensorCountOverride ?? UInt64(tensors.count))
        out.appendLE(kvCountOverride ?? UInt64(kv.count))
        for (key, type, value) in kv {
            out.append(Self.string(key))
            out.appendLE(type)
            out.append(value)
        }
        for t in tensors {
            out.append(Self.string(t.name))
            out.appendLE(UInt32(t.dims.count))
            for d in t.dims { out.appendLE(d) }
            out.appendLE(t.type)
            out.appendLE(t.offset)
        }
        while out.count % alignment != 0 { out.append(0) }
        out.append(data)
        return out
    }
}

@Suite struct GGUFCorruptTests {
    let tmp = TempDir()

    func write(_ name: String, _ builder: GGUFBuilder) -> URL {
        let url = tmp.file(name)
        try! builder.bytes().write(to: url)
        return url
    }

    /// A valid file: one F32 tensor of 8 values.
    var valid: GGUFBuilder {
        var b = GGUFBuilder()
        b.addUInt32("general.alignment", 32)
        b.tensors = [("w", [8], 0, 0)]
        b.data = Data(count: 32)
        return b
    }

    @Test func theValidBaselineOpens() throws {
        let file = try GGUFFile(url: write("ok.gguf", valid))
        #expect(try file.floats("w") == [Float](repeating: 0, count: 8))
    }

    @Test func customAlignmentPlacesTheDataSection() throws {
        var b = GGUFBuilder()
        b.addUInt32("general.alignment", 256)
        b.alignment = 256
        b.tensors = [("a", [4], 0, 0), ("b", [2], 0, 256)]
        var data = Data(count: 264)
        data.replaceSubrange(0..<16, with: [Float(1), 2, 3, 4].withUnsafeBytes { Data($0) })
        data.replaceSubrange(256..<264, with: [Float(5), 6].withUnsafeBytes { Data($0) })
        b.data = data
        let file = try GGUFFile(url: write("align256.gguf", b))
        #expect(file.alignment == 256 && file.dataStart % 256 == 0)
        #expect(try file.floats("a") == [1, 2, 3, 4])
        #expect(try file.floats("b") == [5, 6])
    }

    @Test func badMagic() {
        var b = valid
        b.magic = 0x4C4C_5546
        let url = write("magic.gguf", b)
        expectWeightsError(file: "magic.gguf", ["magic", "not a GGUF file"]) { _ = try GGUFFile(url: url) }
    }

    @Test func unsupportedVersion() {
        for v: UInt32 in [1, 4, 0xFFFF] {
            var b = valid
            b.version = v
            let url = write("version.gguf", b)
            expectWeightsError(file: "version.gguf", ["version", "\(v)", "not supported"]) { _ = try GGUFFile(url: url) }
        }
    }

    @Test func tensorDataPastTheEnd() {
        var b = valid
        b.data = Data(count: 16)
        let url = write("data.gguf", b)
        expectWeightsError(file: "data.gguf", ["tensor \"w\"", "past the end"]) { _ = try GGUFFile(url: url) }
        var far = valid
        far.tensors = [("w", [8], 0, 1 << 20)]
        let url2 = write("far.gguf", far)
        expectWeightsError(file: "far.gguf", ["tensor \"w\"", "past the end"]) { _ = try GGUFFile(url: url2) }
    }

    @Test func unknownGGMLType() {
        var b = valid
        b.tensors = [("w", [8], 99, 0)]
        let url = write("type.gguf", b)
        expectWeightsError(file: "type.gguf", ["tensor \"w\" type", "unknown ggml type 99"]) { _ = try GGUFFile(url: url) }
    }

    @Test func knownButUnsupportedTypeOpensAndRefusesToDequantize() throws {
        var b = valid
        b.tensors = [("w", [256], 10, 0)]     // Q2_K: 84 bytes
        b.data = Data(count: 96)
        let file = try GGUFFile(url: write("q2k.gguf", b))
        expectWeightsError(file: "q2k.gguf", ["tensor \"w\"", "Q2_K"]) { _ = try file.floats("w") }
    }

    @Test func rowNotWholeBlocks() {
        var b = valid
        b.tensors = [("w", [40], 8, 0)]       // Q8_0 needs multiples of 32
        b.data = Data(count: 64)
        let url = write("block.gguf", b)
        expectWeightsError(file: "block.gguf", ["tensor \"w\" ne[0]", "40", "32"]) { _ = try GGUFFile(url: url) }
    }

    @Test func countsThatCannotFit() {
        var b = valid
        b.tensorCountOverride = 1 << 62
        let url = write("count.gguf", b)
        expectWeightsError(file: "count.gguf", ["tensor_count"]) { _ = try GGUFFile(url: url) }
        var k = valid
        k.kvCountOverride = 1 << 40
        let url2 = write("kv.gguf", k)
        expectWeightsError(file: "kv.gguf", ["metadata_kv_count"]) { _ = try GGUFFile(url: url2) }
    }

    @Test func badMetadataValues() {
        var string = valid
        var huge = Data(); huge.appendLE(UInt64(1) << 50)
        string.kv.append(("general.name", 8, huge))
        let url = write("string.gguf", string)
        expectWeightsError(file: "string.gguf", ["metadata \"general.name\"", "past the end"]) { _ = try GGUFFile(url: url) }

        var type = valid
        type.kv.append(("x.y", 77, Data(count: 4)))
        let url2 = write("vtype.gguf", type)
        expectWeightsError(file: "vtype.gguf", ["metadata \"x.y\"", "unknown value type 77"]) { _ = try GGUFFile(url: url2) }

        var array = valid
        var a = Data(); a.appendLE(UInt32(5)); a.appendLE(UInt64(1) << 40)
        array.kv.append(("x.arr", 9, a))
        let url3 = write("array.gguf", array)
        expectWeightsError(file: "array.gguf", ["metadata \"x.arr\" length"]) { _ = try GGUFFile(url: url3) }

        var align = valid
        align.kv = []
        align.addUInt32("general.alignment", 24)
        let url4 = write("align.gguf", align)
        expectWeightsError(file: "align.gguf", ["general.alignment", "power of two"]) { _ = try GGUFFile(url: url4) }

        // Arrays nested without end are cut off, not recursed into.
        var deep = valid
        var nested = Data()
        for _ in 0..<20 { nested.appendLE(UInt32(9)); nested.appendLE(UInt64(1)) }
        nested.appendLE(UInt32(4)); nested.appendLE(UInt64(1)); nested.appendLE(UInt32(7))
        deep.kv.append(("x.deep", 9, nested))
        let url5 = write("deep.gguf", deep)
        expectWeightsError(file: "deep.gguf", ["metadata \"x.deep\"", "nested"]) { _ = try GGUFFile(url: url5) }
    }

    @Test func badTensorInfos() {
        var dims = valid
        dims.tensors = [("w", [1, 1, 1, 1, 1], 0, 0)]
        let url = write("dims.gguf", dims)
        expectWeightsError(file: "dims.gguf", ["tensor \"w\" n_dims", "5"]) { _ = try GGUFFile(url: url) }

        var offset = valid
        offset.tensors = [("w", [4], 0, 4)]
        let url2 = write("offset.gguf", offset)
        expectWeightsError(file: "offset.gguf", ["tensor \"w\" offset", "alignment"]) { _ = try GGUFFile(url: url2) }

        var twice = valid
        twice.tensors = [("w", [8], 0, 0), ("w", [8], 0, 0)]
        let url3 = write("twice.gguf", twice)
        expectWeightsError(file: "twice.gguf", ["tensor \"w\"", "twice"]) { _ = try GGUFFile(url: url3) }

        var overlap = valid
        overlap.tensors = [("a", [16], 0, 0), ("b", [8], 0, 32)]
        overlap.data = Data(count: 64)
        let url4 = write("overlap.gguf", overlap)
        expectWeightsError(file: "overlap.gguf", ["tensor \"b\"", "overlaps tensor \"a\""]) { _ = try GGUFFile(url: url4) }

        var huge = valid
        huge.tensors = [("w", [1 << 50, 1 << 50], 0, 0)]
        let url5 = write("huge.gguf", huge)
        expectWeightsError(file: "huge.gguf", ["tensor \"w\" ne["]) { _ = try GGUFFile(url: url5) }
    }

    @Test func llamaMetadataMissingOrWrong() throws {
        var b = valid
        b.addString("general.architecture", "llama")
        b.addUInt32("llama.block_count", 2)
        let file = try GGUFFile(url: write("meta.gguf", b))
        expectWeightsError(file: "meta.gguf", ["metadata \"llama.attention.head_count\"", "missing"]) { _ = try GGUFLlamaTensorSource(file: file) }
        expectWeightsError(file: "meta.gguf", ["metadata \"tokenizer.ggml.tokens\"", "no vocabulary"]) { _ = try file.tokenizerMetadata() }

        var zero = b
        for (k, v) in [("llama.embedding_length", 8), ("llama.feed_forward_length", 16), ("llama.attention.head_count", 0)] {
            zero.addUInt32(k, UInt32(v))
        }
        let url = write("heads.gguf", zero)
        expectWeightsError(file: "heads.gguf", ["llama.attention.head_count", "0 query heads"]) { _ = try GGUFLlamaTensorSource(file: GGUFFile(url: url)) }

        var arch = valid
        arch.addString("general.architecture", "gpt2")
        let url2 = write("arch.gguf", arch)
        expectWeightsError(file: "arch.gguf", ["general.architecture", "gpt2", "not supported"]) { _ = try GGUFLlamaTensorSource(file: GGUFFile(url: url2)) }
    }

    /// Every prefix of the fixture (header, metadata, infos, data) is refused without a crash.
    @Test func everyTruncationOfARealFileIsRefused() throws {
        let full = try Data(contentsOf: Fixtures.url("quants.gguf"))
        for length in stride(from: 0, to: full.count, by: 5) {
            let url = tmp.file("cut.gguf")
            try full.prefix(length).write(to: url)
            expectWeightsError(file: "cut.gguf", []) { _ = try GGUFFile(url: url) }
        }
    }

    /// Random byte flips in the header area throw or open; they never crash or hang.
    @Test func randomCorruptionNeverCrashes() throws {
        let full = try Data(contentsOf: Fixtures.url("quants.gguf"))
        var rng = SplitMix64(seed: 42)   // seeded: a failure reproduces
        for _ in 0..<300 {
            var bytes = full
            for _ in 0..<4 { bytes[Int.random(in: 0..<2080, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
            let url = tmp.file("flip.gguf")
            try bytes.write(to: url)
            if let file = try? GGUFFile(url: url) {
                for t in file.tensorInfos { _ = try? file.floats(t.name) }
                _ = try? file.tokenizerMetadata()
                _ = try? GGUFLlamaTensorSource(file: file).tensorNames()
            }
        }
    }
}

import Foundation
import Testing
import Weights

@Suite struct SafetensorsTests {
    @Test func readsEveryDtypeWrittenByPython() throws {
        let file = try SafetensorsFile(url: Fixtures.url("all_dtypes.safetensors"))
        #expect(file.metadata == ["format": "pt", "source": "weights_fixture.py"])
        let names = ["f32", "f16", "f64", "i32", "i64", "u8", "i8", "u16", "bool", "empty"]
        #expect(file.tensorNames() == names.sorted())
        for name in names {
            let (shape, values) = Fixtures.expectedTensor("safetensors", name)
            #expect(try file.shape(of: name) == shape, "\(name)")
            let got = try file.floats(name)
            #expect(got == values, "\(name): \(got) != \(values)")
        }
        #expect(try file.info("f16").dtype == .F16)
        #expect(try file.rawBytes("i64").count == 4 * 8)
    }

    @Test func writerMatchesThePythonLibraryByteForByte() throws {
        var writer = SafetensorsWriter(metadata: ["format": "pt"])
        let expected = Fixtures.expected["writer"] as! [String: Any]
        // Added in an order unlike the file's, so the writer's own ordering is what is tested.
        for name in expected.keys.sorted().reversed() {
            let (shape, values) = Fixtures.expectedTensor("writer", name)
            let dtype = ((expected[name] as! [String: Any])["dtype"] as! String)
            switch dtype {
            case "I32": try writer.add(name, shape: shape, int32: values.map { Int32($0) })
            case "I64": try writer.add(name, shape: shape, int64: values.map { Int64($0) })
            default: try writer.add(name, shape: shape, floats: values, as: SafetensorsDType(rawValue: dtype)!)
            }
        }
        let reference = try Data(contentsOf: Fixtures.url("writer_reference.safetensors"))
        let mine = writer.serialized()
        #expect(mine == reference, "\n\(String(decoding: mine.prefix(400), as: UTF8.self))\n\(String(decoding: reference.prefix(400), as: UTF8.self))")
    }

    @Test func bf16RoundsToNearestEvenLikeTorch() throws {
        let bf = Fixtures.expected["bf16"] as! [String: Any]
        let inputs = (bf["inputs"] as! [Any]).map { Float(($0 as! NSNumber).doubleValue) }
        let bits = (bf["bits"] as! [Any]).map { UInt16(($0 as! NSNumber).intValue) }
        var writer = SafetensorsWriter()
        try writer.add("x", shape: [inputs.count], floats: inputs, as: .BF16)
        let tmp = TempDir()
        try writer.write(to: tmp.file("x.safetensors"))
        let file = try SafetensorsFile(url: tmp.file("x.safetensors"))
        let raw = try file.rawBytes("x")
        let stored = (0..<inputs.count).map { raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self) }
        #expect(stored == bits)
        let values = (bf["values"] as! [Any]).map { Float(($0 as! NSNumber).doubleValue) }
        #expect(try file.floats("x") == values)
    }

    @Test func roundTripKeepsNamesShapesValuesAndMetadata() throws {
        let tmp = TempDir()
        let a: [Float] = (0..<12).map { Float($0) * 0.5 - 3 }
        var writer = SafetensorsWriter(metadata: ["format": "pt", "note": "quote \" and \\ and\nnewline"])
        try writer.add("layer.weight", shape: [3, 4], floats: a)
        try writer.add("layer.half", shape: [12], floats: a, as: .F16)
        try writer.add("ids", shape: [2], int64: [Int64.max, -1])
        try writer.add("small", shape: [1, 1], int32: [-5])
        try writer.add("scalar", shape: [], floats: [7])
        let url = tmp.file("model.safetensors")
        try writer.write(to: url)
        // Nothing but the file itself is left in the folder (the temporary was renamed).
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.url.path) == ["model.safetensors"])

        let file = try SafetensorsFile(url: url)
        #expect(file.metadata == writer.metadata)
        #expect(try file.shape(of: "layer.weight") == [3, 4])
        #expect(try file.floats("layer.weight") == a)
        #expect(try file.floats("layer.half") == a)       // all exactly representable in f16
        #expect(try file.shape(of: "scalar") == [])
        #expect(try file.floats("scalar") == [7])
        let ids = try file.rawBytes("ids")
        #expect(ids.loadUnaligned(fromByteOffset: 0, as: Int64.self) == Int64.max)
        #expect(try file.floats("small") == [-5])
        #expect((file.dataStart - 8) % 8 == 0)

        // Into a caller's buffer, with the count checked.
        let out = UnsafeMutablePointer<Float>.allocate(capacity: 12)
        defer { out.deallocate() }
        try file.readFloats("layer.weight", into: out, count: 12)
        #expect(out[11] == a[11])
        expectWeightsError(file: "model.safetensors", ["layer.weight", "11"]) {
            try file.readFloats("layer.weight", into: out, count: 11)
        }
        expectWeightsError(file: "model.safetensors", ["missing.weight"]) { _ = try file.floats("missing.weight") }
    }

    @Test func writerRefusesBadInput() {
        var writer = SafetensorsWriter()
        #expect(throws: WeightsError.self) { try writer.add("x", shape: [2, 2], floats: [1, 2, 3]) }
        #expect(throws: WeightsError.self) { try writer.add("x", shape: [1], floats: [1], as: .I32) }
        try? writer.add("x", shape: [1], floats: [1])
        #expect(throws: WeightsError.self) { try writer.add("x", shape: [1], floats: [1]) }
    }

    @Test func shardedCheckpointThroughTheIndex() throws {
        let tmp = TempDir()
        var one = SafetensorsWriter(metadata: ["format": "pt"])
        try one.add("model.embed_tokens.weight", shape: [2, 2], floats: [1, 2, 3, 4])
        try one.write(to: tmp.file("model-00001-of-00002.safetensors"))
        var two = SafetensorsWriter(metadata: ["format": "pt"])
        try two.add("model.norm.weight", shape: [2], floats: [5, 6], as: .BF16)
        try two.write(to: tmp.file("model-00002-of-00002.safetensors"))
        let index = """
        {"metadata": {"total_size": 20}, "weight_map": {
          "model.embed_tokens.weight": "model-00001-of-00002.safetensors",
          "model.norm.weight": "model-00002-of-00002.safetensors"}}
        """
        try Data(index.utf8).write(to: tmp.file(SafetensorsCheckpoint.indexName))
        let ckpt = try SafetensorsCheckpoint(directory: tmp.url)
        #expect(ckpt.files.count == 2)
        #expect(ckpt.tensorNames() == ["model.embed_tokens.weight", "model.norm.weight"])
        #expect(try ckpt.floats("model.norm.weight") == [5, 6])
        #expect(try ckpt.floats("model.embed_tokens.weight") == [1, 2, 3, 4])
        #expect(ckpt.contains("model.norm.weight") && !ckpt.contains("lm_head.weight"))

        // An index naming a tensor its shard lacks, or a missing shard, is refused with the index's name.
        let bad = index.replacingOccurrences(of: "\"model.norm.weight\": \"model-00002", with: "\"lm_head.weight\": \"model-00002")
        try Data(bad.utf8).write(to: tmp.file(SafetensorsCheckpoint.indexName))
        expectWeightsError(file: SafetensorsCheckpoint.indexName, ["lm_head.weight", "not found"]) {
            _ = try SafetensorsCheckpoint(directory: tmp.url)
        }
        let missing = index.replacingOccurrences(of: "00002-of-00002", with: "00003-of-00002")
        try Data(missing.utf8).write(to: tmp.file(SafetensorsCheckpoint.indexName))
        expectWeightsError(file: SafetensorsCheckpoint.indexName, ["model-00003-of-00002.safetensors", "missing"]) {
            _ = try SafetensorsCheckpoint(directory: tmp.url)
        }
        try Data("{\"weight_map\": 3}".utf8).write(to: tmp.file(SafetensorsCheckpoint.indexName))
        expectWeightsError(file: SafetensorsCheckpoint.indexName, ["weight_map"]) {
            _ = try SafetensorsCheckpoint(directory: tmp.url)
        }
    }
}

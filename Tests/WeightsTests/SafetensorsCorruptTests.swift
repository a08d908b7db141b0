import Foundation
import Testing
import Weights

/// Truncated and corrupt safetensors files: each must be refused with an error naming the file and the field.
@Suite struct SafetensorsCorruptTests {
    let tmp = TempDir()

    /// Writes `[u64 header length][header][data]` as `name`, with an optional lying length.
    func write(_ name: String, header: String, data: Data = Data(count: 16), length: UInt64? = nil) -> URL {
        var bytes = Data()
        bytes.appendLE(length ?? UInt64(header.utf8.count))
        bytes.append(Data(header.utf8))
        bytes.append(data)
        let url = tmp.file(name)
        try! bytes.write(to: url)
        return url
    }

    @Test func truncatedBeforeTheHeaderLength() throws {
        let url = tmp.file("short.safetensors")
        try Data([1, 2, 3]).write(to: url)
        expectWeightsError(file: "short.safetensors", ["header length", "truncated"]) { _ = try SafetensorsFile(url: url) }
        let empty = tmp.file("empty.safetensors")
        try Data().write(to: empty)
        expectWeightsError(file: "empty.safetensors", ["header length"]) { _ = try SafetensorsFile(url: empty) }
    }

    @Test func headerLengthPastTheEnd() {
        let url = write("long.safetensors", header: "{}", length: 1 << 40)
        expectWeightsError(file: "long.safetensors", ["header length", "past the end"]) { _ = try SafetensorsFile(url: url) }
    }

    @Test func headerNotJSON() {
        let url = write("json.safetensors", header: "{\"a\": {\"dtype\": ")
        expectWeightsError(file: "json.safetensors", ["header", "not valid JSON"]) { _ = try SafetensorsFile(url: url) }
        let array = write("array.safetensors", header: "[1, 2]")
        expectWeightsError(file: "array.safetensors", ["header", "JSON object"]) { _ = try SafetensorsFile(url: array) }
    }

    @Test func offsetsOutOfRange() {
        let url = write("range.safetensors", header: #"{"w": {"dtype": "F32", "shape": [8], "data_offsets": [0, 32]}}"#)
        expectWeightsError(file: "range.safetensors", ["tensor \"w\"", "data_offsets", "out of range", "16 bytes"]) {
            _ = try SafetensorsFile(url: url)
        }
    }

    @Test func offsetsReversed() {
        let url = write("reversed.safetensors", header: #"{"w": {"dtype": "F32", "shape": [0], "data_offsets": [8, 4]}}"#)
        expectWeightsError(file: "reversed.safetensors", ["tensor \"w\"", "data_offsets"]) { _ = try SafetensorsFile(url: url) }
    }

    @Test func offsetsOverlapping() {
        let header = #"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}"#
        let url = write("overlap.safetensors", header: header)
        expectWeightsError(file: "overlap.safetensors", ["tensor \"b\"", "overlap", "\"a\""]) { _ = try SafetensorsFile(url: url) }
    }

    @Test func unknownDtype() {
        let url = write("dtype.safetensors", header: #"{"w": {"dtype": "F8_E9M9", "shape": [2], "data_offsets": [0, 2]}}"#)
        expectWeightsError(file: "dtype.safetensors", ["tensor \"w\" dtype", "F8_E9M9"]) { _ = try SafetensorsFile(url: url) }
    }

    @Test func shapeAndByteCountDisagree() {
        let url = write("shape.safetensors", header: #"{"w": {"dtype": "BF16", "shape": [3, 2], "data_offsets": [0, 16]}}"#)
        expectWeightsError(file: "shape.safetensors", ["tensor \"w\"", "[3, 2]", "12", "16"]) { _ = try SafetensorsFile(url: url) }
    }

    @Test func badFieldTypes() {
        let cases: [(String, String, String)] = [
            ("noshape.safetensors", #"{"w": {"dtype": "F32", "data_offsets": [0, 4]}}"#, "shape"),
            ("negshape.safetensors", #"{"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}"#, "shape"),
            ("fracshape.safetensors", #"{"w": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}"#, "shape"),
            ("hugeshape.safetensors", #"{"w": {"dtype": "F32", "shape": [4000000000000, 4000000000000], "data_offsets": [0, 4]}}"#, "shape"),
            ("nooffsets.safetensors", #"{"w": {"dtype": "F32", "shape": [1]}}"#, "data_offsets"),
            ("oneoffset.safetensors", #"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0]}}"#, "data_offsets"),
            ("entry.safetensors", #"{"w": 3}"#, "tensor \"w\""),
            ("meta.safetensors", #"{"__metadata__": {"format": 1}}"#, "__metadata__.format"),
        ]
        for (name, header, field) in cases {
            let url = write(name, header: header)
            expectWeightsError(file: name, [field]) { _ = try SafetensorsFile(url: url) }
        }
    }

    @Test func missingFileAndFolder() {
        expectWeightsError(file: "nothing.safetensors", ["cannot open"]) { _ = try SafetensorsFile(url: tmp.file("nothing.safetensors")) }
        expectWeightsError(file: tmp.url.path, ["no model.safetensors"]) { _ = try SafetensorsCheckpoint(directory: tmp.url) }
    }

    /// Every prefix of a valid file opens cleanly or throws; none crashes.
    @Test func everyTruncationOfARealFileIsRefused() throws {
        let full = try Data(contentsOf: Fixtures.url("all_dtypes.safetensors"))
        for length in stride(from: 0, to: full.count, by: 7) {
            let url = tmp.file("cut.safetensors")
            try full.prefix(length).write(to: url)
            expectWeightsError(file: "cut.safetensors", []) { _ = try SafetensorsFile(url: url) }
        }
    }
}

import Foundation
import Support
import Testing
import Weights

/// Issue 16: every JSON reader of model files says where a file that does not parse goes wrong (line and
/// column, in plain words), never Foundation's "The data couldn't be read because it isn't in the correct format".
@Suite struct JSONFileTests {
    func problem(_ text: String, file: String = "m/config.json") -> String {
        do {
            _ = try JSONFile.object(Data(text.utf8), file: file)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func syntaxErrorsHaveLineAndColumn() {
        #expect(problem("{\n  \"vocab_size\": 128,\n  \"hidden_size\": ,\n}")
                == "m/config.json: not valid JSON at line 3, column 18: unexpected ',', expected a value")
        #expect(problem("{\"a\": 1,,}") == "m/config.json: not valid JSON at line 1, column 9: expected a string key in object, found ','")
        #expect(problem("{\"a\": [1, 2}") .hasPrefix("m/config.json: not valid JSON at line 1, column 12: expected ',' or ']'"))
        #expect(problem("") == "m/config.json: not valid JSON at line 1, column 1: unexpected end of file, expected a value")
        #expect(problem("[1, 2]") == "m/config.json: the top level is an array, not a JSON object")
        #expect(problem("true") == "m/config.json: the top level is a boolean, not a JSON object")
    }

    /// What Foundation refuses and a lenient reader would keep is located too.
    @Test func whatFoundationRefusesIsLocated() {
        #expect(problem("{\"a\":\n 1e400}") == "m/config.json: not valid JSON at line 2, column 2: the number 1e400 is beyond the range of a 64-bit float")
        #expect(problem("{\"a\": \"\\ud800\"}").hasPrefix("m/config.json: not valid JSON at line 1, column 14: a lone surrogate escape"))
        var bytes = Array("{\"a\": \"x".utf8)
        bytes += [0xFF] + Array("\"}".utf8)
        do {
            _ = try JSONFile.object(Data(bytes), file: "t.json")
            Issue.record("invalid UTF-8 accepted")
        } catch {
            #expect("\(error)" == "t.json: not valid JSON at line 1, column 7: a string that is not valid UTF-8 text")
        }
    }

    @Test func embeddedJSONNamesItsField() {
        do {
            _ = try JSONFile.object(Data("{\"x\": }".utf8), file: "a.safetensors", field: "header")
            Issue.record("no error")
        } catch {
            #expect("\(error)" == "a.safetensors: header: not valid JSON at line 1, column 7: unexpected '}', expected a value")
        }
    }

    @Test func aFolderWhereAFileShouldBeSaysSo() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-jsonfile-\(UUID().uuidString)")
        let config = dir.appendingPathComponent("config.json")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            _ = try JSONFile.readObject(config)
            Issue.record("read a folder")
        } catch {
            #expect("\(error)" == "\(config.path): cannot read: it is a folder, not a file")
        }
        #expect(FileSystemError.plainDescription(of: CocoaError(.fileReadNoSuchFile)) == "no such file or folder")
        #expect(FileSystemError.plainDescription(of: WeightsError(file: "f", "x")) == "f: x")
    }

    @Test func aSafetensorsIndexThatDoesNotParseIsLocated() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-index-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let index = dir.appendingPathComponent("model.safetensors.index.json")
        try Data("{\"weight_map\": {\n \"a\": \"model-1.safetensors\"\n \"b\": 2}}".utf8).write(to: index)
        do {
            _ = try SafetensorsCheckpoint(index: index)
            Issue.record("no error")
        } catch {
            #expect("\(error)" == "model.safetensors.index.json: not valid JSON at line 3, column 2: expected ',' or '}' after object member \"a\", found '\"'")
        }
    }
}

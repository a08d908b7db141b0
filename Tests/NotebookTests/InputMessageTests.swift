import Foundation
import Notebook
import Testing

// Issue 16's "errors that do not help": what a broken file or an impossible value says, read where a user
// meets it (load_model, load_adapter, tokenize_dataset, ...): the file as the user gave it, the line and
// column or the field, the allowed values and the option to use, never Foundation's words.

@Suite struct InputMessageTests {
    /// A copy of the tiny model (weights, config, the tiny BPE tokenizer) in a fresh folder, and a session there.
    static func setUp() throws -> (Session, URL) {
        let (session, _, dir) = try UserMessageTests.setUp()
        let model = dir.appendingPathComponent("m")
        try FileManager.default.copyItem(atPath: ModelFixtures.tinyLlama, toPath: model.path)
        for name in ["tokenizer.json", "tokenizer_config.json"] {
            try FileManager.default.copyItem(atPath: ModelFixtures.tinyBPE + "/" + name, toPath: model.appendingPathComponent(name).path)
        }
        return (session, dir)
    }

    static func message(_ session: Session, _ text: String) -> String {
        let message = UserMessageTests.error(session, text)
        UserMessageTests.expectPlain(message)
        #expect(!message.contains("The data couldn't be read") && !message.contains("correct format"), "\(message)")
        return message
    }

    @Test func everyJSONReaderGivesLineAndColumn() throws {
        let (session, dir) = try Self.setUp()
        let m = dir.appendingPathComponent("m")
        let config = m.appendingPathComponent("config.json")
        let good = try Data(contentsOf: config)
        try Data("{\n  \"vocab_size\": 128,\n  \"hidden_size\": ,\n}\n".utf8).write(to: config)
        #expect(Self.message(session, "load_model m").contains("\(config.path): not valid JSON at line 3, column 18: unexpected ',', expected a value"))
        try good.write(to: config)

        let tokenizer = m.appendingPathComponent("tokenizer.json")
        let goodTokenizer = try Data(contentsOf: tokenizer)
        try Data("{\n \"model\": {\n   \"vocab\": {\"a\": 1,,}\n }\n}\n".utf8).write(to: tokenizer)
        #expect(Self.message(session, "load_model m").contains("\(tokenizer.path): not valid JSON at line 3, column 21: expected a string key in object, found ','"))
        #expect(Self.message(session, "load_tokenizer m").contains("\(tokenizer.path): not valid JSON at line 3, column 21"))
        try goodTokenizer.write(to: tokenizer)

        let tokenizerConfig = m.appendingPathComponent("tokenizer_config.json")
        try Data("{\"bos_token\": \"x\",\n \"eos_token\" \"y\"}".utf8).write(to: tokenizerConfig)
        #expect(Self.message(session, "load_model m").contains("\(tokenizerConfig.path): not valid JSON at line 2, column 14: expected ':' after key \"eos_token\""))
        try FileManager.default.removeItem(at: tokenizerConfig)

        try session.run("model = load_model m")
        let adapter = dir.appendingPathComponent("adapter")
        try FileManager.default.copyItem(atPath: ModelFixtures.initialAdapter, toPath: adapter.path)
        let adapterConfig = adapter.appendingPathComponent("adapter_config.json")
        try Data("{\n\"r\": 4,\n \"lora_alpha\": \n}".utf8).write(to: adapterConfig)
        #expect(Self.message(session, "load_adapter model adapter").contains("\(adapterConfig.path): not valid JSON at line 4, column 1: unexpected '}', expected a value"))
    }

    @Test func aFolderWhereAFileShouldBeSaysSo() throws {
        let (session, dir) = try Self.setUp()
        let m = dir.appendingPathComponent("m")
        for name in ["config.json", "tokenizer.json", "model.safetensors"] {
            let file = m.appendingPathComponent(name)
            let saved = dir.appendingPathComponent("saved-" + name)
            try FileManager.default.moveItem(at: file, to: saved)
            try FileManager.default.createDirectory(at: file, withIntermediateDirectories: false)
            #expect(Self.message(session, "load_model m").contains("\(file.path): cannot read: it is a folder, not a file"))
            try FileManager.default.removeItem(at: file)
            try FileManager.default.moveItem(at: saved, to: file)
        }
    }
}

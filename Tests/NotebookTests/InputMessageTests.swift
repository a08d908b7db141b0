import Foundation
import Language
import TestSupport
import Testing
import Tokenizers

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

@Suite struct ArgumentMessageTests {
    static let data = Repository.url("data/medqa_small.json").path

    /// Rows whose every label is -100 say why: the prompt fills max_length (mode=default), or every token kept
    /// is the pad token (notebook mode), with tokenize_dataset's real option.
    @Test func nothingToTrainNamesMaxLength() throws {
        let (session, _) = try InputMessageTests.setUp()
        try session.run("t = load_tokenizer m\nd = load_dataset \"\(Self.data)\"\np = select d 0 3")
        let chat = InputMessageTests.message(session, "x = tokenize_dataset p t mode=default max_length=8")
        #expect(chat.contains("every label is -100: nothing would be trained: every row's prompt (its question in the chat template, "
                              + "36 tokens at the shortest) fills max_length=8, so no answer token is left to train on"), "\(chat)")
        #expect(chat.contains("raise max_length= above 36"), "\(chat)")
        try session.run("texts = format_prompts p template=\"<|im_end|><|im_end|>{question}{answer}\"")
        let notebook = InputMessageTests.message(session, "x = tokenize_dataset texts t max_length=2")
        #expect(notebook.contains("within max_length=2 every token of every row is the pad token (id 2), which the collator masks"), "\(notebook)")
        #expect(notebook.contains("raise max_length=, or pad with another token (configure_tokenizer TOK pad=ID)"), "\(notebook)")
    }

    /// A tokenizer without a chat template medrepl knows: the file it was read from, what medrepl recognises, template=.
    @Test func anUnrecognisedChatTemplateNamesTheFile() throws {
        let (session, dir) = try InputMessageTests.setUp()
        let config = dir.appendingPathComponent("m/tokenizer_config.json")
        var fields = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: config)) as? [String: Any])
        fields["chat_template"] = "{{ messages }}"
        try JSONSerialization.data(withJSONObject: fields).write(to: config)
        try session.run("t = load_tokenizer m\nd = load_dataset \"\(Self.data)\"\np = select d 0 3")
        let families = "ChatML (<|im_start|>), Llama 3 (<|start_header_id|>), Zephyr (<|user|> with <|assistant|>) and Llama 2 ([INST])"
        for command in ["x = tokenize_dataset p t mode=default", "x = format_prompts p template=chat tokenizer=t"] {
            let message = InputMessageTests.message(session, command)
            #expect(message.contains("\(config.path): chat_template: a template medrepl does not recognise (it recognises \(families))"), "\(message)")
            #expect(message.contains("name a family instead: template=chatml (or llama3, zephyr, llama2)"), "\(message)")
        }
        fields.removeValue(forKey: "chat_template")
        try JSONSerialization.data(withJSONObject: fields).write(to: config)
        try session.run("t = load_tokenizer m\nmodel = load_model m")
        for command in ["x = tokenize_dataset p t mode=default", "x = tokenize_dataset p model mode=default"] {
            let message = InputMessageTests.message(session, command)
            #expect(message.contains("\(config.path): chat_template: missing: the tokenizer has no chat template (medrepl recognises \(families))"), "\(message)")
        }
        try session.run("x = tokenize_dataset p t mode=default template=chatml")
    }

    /// A GGUF without a vocabulary loads with the tokenizer given (it used to fail on the missing vocabulary),
    /// and without one like a folder without tokenizer files: loaded, with a line saying how to give one.
    @Test func aGivenTokenizerTakesThePlaceOfTheGGUFsVocabulary() throws {
        let gguf = Repository.url("Tests/Fixtures/tiny-llama3-rope-gguf/model.gguf").path
        let (session, output) = NotebookFixtures.session()
        try session.run("t = load_tokenizer \"\(ModelFixtures.tinyBPE)\"\nm = load_model \"\(gguf)\" tokenizer=t\nassert m.tokenizer.vocab_size == 600")
        try session.run("bare = load_model \"\(gguf)\"")
        #expect(output().contains("no tokenizer with it: give one with tokenizer=TOK"), "\(output())")
        #expect(ChatTemplateSource(tokenizerAt: URL(fileURLWithPath: gguf)) == ChatTemplateSource(file: gguf, field: "metadata tokenizer.chat_template"))
    }

    @Test func sleepIsBounded() throws {
        let (session, _) = NotebookFixtures.session()
        for (value, shown) in [("-1", "-1"), ("3600.5", "3600.5"), ("99999999999999999999", "1e20")] {
            let message = InputMessageTests.message(session, "sleep \(value)")
            #expect(message.contains("sleep takes 0 to 3600 seconds (an hour), not \(shown)"), "\(message)")
        }
        try session.run("sleep 0")
        // Without the bound the process slept for ever: the binary must answer at once.
        if let binary = NotebookFixtures.binary {
            let result = try NotebookFixtures.run(binary, ["-c", "sleep 99999999999999999999"], timeout: 30)
            #expect(result.status == 1 && result.err.contains("sleep takes 0 to 3600 seconds"), "\(result)")
        }
    }
}

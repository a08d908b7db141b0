import Foundation
import TestSupport
import Testing
import Tokenizers
import Weights

/// `<repo>/Tests/Fixtures/<path>`, written by tools/fixtures/make_fixtures.py with the Python `tokenizers`.
func fixture(_ path: String) -> URL? {
    let url = Repository.url("Tests/Fixtures").appendingPathComponent(path)
    return FileManager.default.fileExists(atPath: url.path) ? url : nil
}

/// Seconds of CPU time the calling thread has used.
func threadCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

func jsonValue(_ url: URL) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(contentsOf: url))
}

/// Every question and answer of ../shared/data, in the fixture's order (files by name, rows, question then answer).
func sharedQATexts() throws -> [String]? {
    guard let dir = Repository.shared("data") else { return nil }
    let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".json") }.sorted()
    var texts: [String] = []
    for name in names {
        guard let rows = try jsonValue(dir.appendingPathComponent(name)) as? [[String: Any]] else { return nil }
        for row in rows {
            texts.append(row["Open-ended Verifiable Question"] as? String ?? "")
            texts.append(row["Ground-True Answer"] as? String ?? "")
        }
    }
    return texts
}

@Suite struct FixtureTests {
    /// A tiny Llama-3-style tokenizer.json against ids, tokens and decoded text from the Python library.
    @Test func tinyBPEMatchesPythonTokenizers() throws {
        guard let folder = fixture("tiny-bpe"), let idsURL = fixture("tiny-bpe/ids.json") else {
            print("skipped: Tests/Fixtures/tiny-bpe is absent"); return
        }
        let tok = try loadTokenizer(folder: folder)
        #expect(tok is BPETokenizer)
        #expect(tok.bosTokenId == 1 && tok.eosTokenId == 2 && tok.padTokenId == 2 && tok.unkTokenId == 0)
        let cases = try #require(jsonValue(idsURL) as? [[String: Any]])
        #expect(cases.count == 42)
        for c in cases {
            let text = try #require(c["text"] as? String)
            let ids = try #require(c["ids"] as? [Int])
            let tokens = try #require(c["tokens"] as? [String])
            let decoded = try #require(c["decoded"] as? String)
            let got = tok.encode(text, addSpecialTokens: false)
            #expect(got == ids, "\(text.debugDescription)")
            #expect(got.map { tok.idToToken($0) ?? "?" } == tokens, "\(text.debugDescription)")
            #expect(tok.decode(ids, skipSpecialTokens: false) == decoded, "\(text.debugDescription)")
        }
    }

    @Test func tinyBPEChatTemplate() throws {
        guard let folder = fixture("tiny-bpe"), let chatURL = fixture("tiny-bpe/chat.json") else {
            print("skipped: Tests/Fixtures/tiny-bpe is absent"); return
        }
        let tok = try loadTokenizer(folder: folder)
        let chat = try #require(jsonValue(chatURL) as? [String: Any])
        let messages = try #require(chat["messages"] as? [[String: String]]).map { ChatMessage(role: $0["role"]!, content: $0["content"]!) }
        let jinja = try #require(tok.chatTemplate)
        let template = try #require(ChatTemplate.detect(jinja: jinja))
        #expect(template == .chatml(defaultSystemPrompt: nil))
        let text = template.apply(messages: messages, addGenerationPrompt: chat["add_generation_prompt"] as? Bool ?? true)
        #expect(text == chat["text"] as? String)
        #expect(tok.encode(text, addSpecialTokens: false) == chat["ids"] as? [Int])
    }

    /// SmolLM2's GGUF vocabulary against the Python `tokenizers` ids of every shared question and answer.
    @Test func smolLM2MatchesPythonOnSharedData() throws {
        guard let idsURL = fixture("smollm2/tokenizer_ids.safetensors"), let metaURL = fixture("smollm2/tokenizer_ids.json") else {
            print("skipped: Tests/Fixtures/smollm2/tokenizer_ids.* is absent"); return
        }
        guard let model = Repository.smolLM2 else { print("skipped: \(Repository.smolLM2Absent)"); return }
        guard let texts = try sharedQATexts() else { print("skipped: ../shared/data is absent"); return }
        let meta = try #require(jsonValue(metaURL) as? [String: Any])
        #expect(texts.count == meta["count"] as? Int)

        let file = try SafetensorsFile(url: idsURL)
        func int32s(_ name: String) throws -> [Int] {
            let raw = try file.rawBytes(name)
            return (0..<raw.count / 4).map { Int(raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) }
        }
        let ids = try int32s("ids")
        let offsets = try int32s("offsets")
        #expect(offsets.count == texts.count + 1)

        let loadStart = threadCPUSeconds()
        let tok = try loadTokenizer(at: model)
        let loadCPU = threadCPUSeconds() - loadStart
        // CPU time of this thread: the wall clock means little on a machine shared with parallel builds.
        let cpuStart = threadCPUSeconds()
        let wallStart = ContinuousClock.now
        let encoded = texts.map { tok.encode($0, addSpecialTokens: false) }
        let cpu = threadCPUSeconds() - cpuStart
        let wall = ContinuousClock.now - wallStart
        var mismatched = 0
        for (i, got) in encoded.enumerated() where got != Array(ids[offsets[i]..<offsets[i + 1]]) {
            mismatched += 1
            if mismatched <= 3 { Issue.record("text \(i) differs: \(texts[i].prefix(80).debugDescription) got \(got) expected \(Array(ids[offsets[i]..<offsets[i + 1]]))") }
        }
        #expect(mismatched == 0, "\(mismatched) of \(texts.count) texts differ")
        for (text, got) in zip(texts, encoded) where tok.decode(got) != text {
            Issue.record("round trip differs: \(text.prefix(80).debugDescription)"); break
        }
        print("SmolLM2: \(texts.count - mismatched)/\(texts.count) texts match; encoded \(ids.count) ids in \(cpu) s CPU (\(wall) wall); loaded in \(loadCPU) s CPU")
    }

    /// The GGUF's own chat template, rendered by transformers for the fixture prompts.
    @Test func smolLM2ChatPromptsMatchTransformers() throws {
        guard let refURL = fixture("smollm2/reference.json") else { print("skipped: Tests/Fixtures/smollm2 is absent"); return }
        guard let model = Repository.smolLM2 else { print("skipped: \(Repository.smolLM2Absent)"); return }
        let ref = try #require(jsonValue(refURL) as? [String: Any])
        let tok = try loadTokenizer(gguf: model)
        #expect(tok.chatTemplate == ref["chat_template"] as? String)
        let jinja = try #require(tok.chatTemplate)
        let template = try #require(ChatTemplate.detect(jinja: jinja))
        #expect(template == .named("smollm2"))
        #expect(tok.eosTokenId == ref["eos_token_id"] as? Int)
        #expect(tok.padTokenId == 2 && tok.bosTokenId == 1 && tok.settings.addBosToken == false)
        #expect(tok.endOfTurnTokenIds == [2, 0])   // <|im_end|> and <|endoftext|>
        for prompt in try #require(ref["prompts"] as? [[String: Any]]) {
            let messages = try #require(prompt["messages"] as? [[String: String]]).map { ChatMessage(role: $0["role"]!, content: $0["content"]!) }
            let text = template.apply(messages: messages, addGenerationPrompt: true)
            #expect(text == prompt["text"] as? String)
            #expect(tok.encode(text, addSpecialTokens: false) == prompt["input_ids"] as? [Int])
            let greedy = try #require(prompt["greedy_ids"] as? [Int])
            #expect(tok.decode(greedy, skipSpecialTokens: true) == prompt["greedy_text"] as? String)
        }
    }
}

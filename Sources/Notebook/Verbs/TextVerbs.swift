import Evaluation
import Foundation
import Language
import Llama
import Tokenizers

// Text in and out of a model: tokens, chat prompts, replies streamed as they are generated, and the
// loss of a text or of an answer. Generation and scoring go through `ModelObject.inference`, so an
// adapter that is on is used without being merged.

extension VerbGroup {
    /// `tokenize`, `detokenize`, `chat_prompt`, `ask`, `generate`, `score`.
    public static var text: VerbGroup {
        VerbGroup("Text", intro: "Tokenize, format chat prompts, generate replies and score texts.", verbs: [
            Verb("tokenize", summary: "Encode text: prints the ids and their pieces, returns the ids.",
                 positional: [Parameter("tokenizer", .object(""), help: "a Tokenizer, or a Model (its tokenizer)"),
                              Parameter("text", .string, help: "the text; special tokens written in it are matched")],
                 keywords: [Parameter("special", .bool, default: .bool(true), help: "add BOS/EOS as the tokenizer config says")],
                 examples: ["ids = tokenize model \"What causes anemia?\""]) { inv, session in
                let tok = try tokenizerObject(inv, "tokenizer").tokenizer
                let ids = tok.encode(try inv.string("text"), addSpecialTokens: try inv.bool("special"))
                session.writeLine("\(ids.count) tokens: " + Value.list(ids.map { .int($0) }).display)
                session.writeLine("pieces: " + Value.list(ids.map { .string(tok.idToToken($0) ?? "?") }).display)
                return .list(ids.map { .int($0) })
            }.quiet(),
            Verb("detokenize", summary: "Decode token ids to text.",
                 positional: [Parameter("tokenizer", .object(""), help: "a Tokenizer, or a Model (its tokenizer)"),
                              Parameter("ids", .list, help: "token ids")],
                 keywords: [Parameter("skip_special", .bool, default: .bool(false), help: "leave out special tokens (BOS, <|im_end|>, ...)")],
                 examples: ["detokenize model ids", "detokenize tok [1, 2, 3] skip_special=true"]) { inv, session in
                let tok = try tokenizerObject(inv, "tokenizer").tokenizer
                var ids: [Int] = []
                for (i, v) in try inv.list("ids").enumerated() {
                    guard case .int(let id) = v, id >= 0, id < tok.vocabSize else {
                        throw inv.error("ids[\(i)] = \(v.display) is not a token id (0..<\(tok.vocabSize))", at: "ids")
                    }
                    ids.append(id)
                }
                return .string(tok.decode(ids, skipSpecialTokens: try inv.bool("skip_special")))
            },
            Verb("chat_prompt", summary: "The prompt a chat model sees for a question (its chat template, up to the reply).",
                 positional: [Parameter("model", .object(""), help: "a Model or a Tokenizer"),
                              Parameter("question", .string, help: "the user's message")],
                 keywords: [Parameter("system", .string, optional: true, help: "a system message"),
                            templateParameter],
                 examples: ["p = chat_prompt model \"What causes anemia?\"", "chat_prompt model \"Hi\" template=notebook"]) { inv, session in
                let tok = try tokenizerObject(inv, "model")
                let template = try chatTemplate(inv, tok)
                return .string(template.prompt(question: try inv.string("question"), system: try inv.optionalString("system")))
            },
            Verb("ask", summary: "Ask a chat model a question: the reply streams as it is generated, and is returned.",
                 details: "The question goes through the model's chat template (or `template=`). Ctrl-C stops the "
                    + "reply where it is; the session keeps everything. With abstain_below=P the reply is written once it is "
                    + "complete, with its answer's confidence (the mean and the smallest probability the model gave the answer's "
                    + "tokens, and the probability of the whole answer; the answer is the reply's first line, or what follows a "
                    + "last \"The answer is:\", as evaluate takes it, so evaluate's risk-coverage table shows what a threshold "
                    + "keeps); when the mean is below P the answer is the fallback \""
                    + abstentionReply + "\" instead, and a line says why and what the model would have said.",
                 positional: [Parameter("model", .object("Model"), help: "the model"),
                              Parameter("question", .string, help: "the user's message")],
                 keywords: samplingParameters + [Parameter("system", .string, optional: true, help: "a system message"), templateParameter,
                                                 Parameter("abstain_below", .double, optional: true,
                                                           help: "answer with the fallback when the answer's mean token probability is below this (0 to 1)")],
                 examples: ["ask model \"What is the first-line treatment of scurvy?\"",
                            "reply = ask model \"Name three causes of anemia.\" do_sample=true temperature=0.3 top_p=0.9 seed=7",
                            "ask model \"Which drug reverses warfarin?\" abstain_below=0.5 system=\"You are not a substitute for a clinician.\""]) { inv, session in
                let model = try inv.object("model", as: ModelObject.self)
                let tok = try tokenizerObject(inv, "model")
                let prompt = try chatTemplate(inv, tok).prompt(question: try inv.string("question"), system: try inv.optionalString("system"))
                if inv.has("abstain_below") {
                    let threshold = try inv.double("abstain_below")
                    guard (0...1).contains(threshold) else {
                        throw inv.error("abstain_below=\(Value.format(threshold)) is not a probability", at: "abstain_below", hint: "give a value from 0 to 1, such as abstain_below=0.5")
                    }
                    return .string(try abstainingReply(model, tok.tokenizer, prompt: prompt, threshold: threshold, inv, session))
                }
                return .string(try stream(model, tok.tokenizer, prompt: prompt, addSpecialTokens: false, inv, session))
            }.quiet(),
            Verb("generate", summary: "Continue a raw prompt text (special tokens written in it are matched).",
                 positional: [Parameter("model", .object("Model"), help: "the model"),
                              Parameter("prompt", .string, help: "the text to continue, as the model sees it")],
                 keywords: samplingParameters + [Parameter("add_special_tokens", .bool, default: .bool(true), help: "add BOS as the tokenizer config says (as tokenizer(prompt) does)")],
                 examples: ["generate model \"<|im_start|>user\\nHi<|im_end|>\\n<|im_start|>assistant\\n\" max_new_tokens=20"]) { inv, session in
                let model = try inv.object("model", as: ModelObject.self)
                let tok = try tokenizerObject(inv, "model")
                return .string(try stream(model, tok.tokenizer, prompt: try inv.string("prompt"),
                                          addSpecialTokens: try inv.bool("add_special_tokens"), inv, session))
            }.quiet(),
            Verb("score", summary: "Mean token loss and perplexity of a text, or of an answer given a question.",
                 details: "With `question=` and `answer=`, the question goes through the chat template and only the "
                    + "answer's tokens count. Prints `loss L  perplexity P  (N tokens)` and returns the loss.",
                 positional: [Parameter("model", .object("Model"), help: "the model"),
                              Parameter("text", .string, optional: true, help: "a text to score as a whole")],
                 keywords: [Parameter("question", .string, optional: true, help: "the question (with answer=)"),
                            Parameter("answer", .string, optional: true, help: "the answer whose tokens are scored"),
                            Parameter("system", .string, optional: true, help: "a system message"), templateParameter],
                 examples: ["score model \"Iron deficiency is the most common cause of anemia.\"",
                            "loss = score model question=\"What causes scurvy?\" answer=\"Vitamin C deficiency.\""]) { inv, session in
                let model = try inv.object("model", as: ModelObject.self)
                let tok = try tokenizerObject(inv, "model")
                let s: Score
                if let text = try inv.optionalString("text") {
                    guard !inv.has("question") && !inv.has("answer") else {
                        throw inv.error("give either a text or question= and answer=, not both", at: "text")
                    }
                    s = try model.inference.score(text: text, tokenizer: tok.tokenizer)
                } else {
                    guard let question = try inv.optionalString("question"), let answer = try inv.optionalString("answer") else {
                        throw inv.error("nothing to score", hint: "score MODEL \"text\"  or  score MODEL question=\"...\" answer=\"...\"")
                    }
                    let prompt = try chatTemplate(inv, tok).prompt(question: question, system: try inv.optionalString("system"))
                    s = try model.inference.score(prompt: prompt, answer: answer, tokenizer: tok.tokenizer)
                }
                session.writeLine(String(format: "loss %.4f  perplexity %.2f  (%d tokens)", s.meanLoss, s.perplexity, s.tokenCount))
                return .double(Double(s.meanLoss))
            }.quiet(),
        ])
    }
}

let templateParameter = TemplateChoice.parameter(help: "the chat format: the model's own (auto), a family, or the notebook's literal Llama-3 text")

/// `ask` and `generate`'s decoding: transformers' defaults, but 128 new tokens and every token kept when sampling (top_k = 0).
let chatGeneration = GenerationConfig(max_new_tokens: 128, top_k: 0)

let samplingParameters: [Parameter] = GenerationConfig.settings.parameters(defaults: chatGeneration)

/// The template named by `template=`, or the tokenizer's own; ChatML when the tokenizer has none.
func chatTemplate(_ inv: Invocation, _ tok: TokenizerObject) throws -> ChatTemplate {
    try TemplateChoice.chat(named: try inv.string("template")) {
        guard let jinja = tok.tokenizer.chatTemplate else { return .chatml(defaultSystemPrompt: nil) }
        guard let t = ChatTemplate.detect(jinja: jinja) else {
            throw inv.error("the tokenizer's chat template is none of the known families", at: "template",
                            hint: "choose one: template=" + TemplateChoice.names().filter { $0 != TemplateChoice.auto }.joined(separator: "|"))
        }
        return t
    } ?? .chatml(defaultSystemPrompt: nil)
}

/// The sampling keywords as a `GenerationConfig` (greedy decoding ignores top_k).
func generationConfig(_ inv: Invocation, _ session: Session) throws -> GenerationConfig {
    var g = chatGeneration
    try GenerationConfig.settings.store(inv, into: &g, session: session)
    if !g.do_sample { g.top_k = 0 }
    return g
}

/// What `ask ... abstain_below=P` answers when the model is not sure enough.
let abstentionReply = "I am not confident enough to answer; please consult a clinician."

/// `ask ... abstain_below=P`: the whole reply first, then the reply or the fallback, and its confidence.
func abstainingReply(_ model: ModelObject, _ tok: any Tokenizer, prompt: String, threshold: Double,
                     _ inv: Invocation, _ session: Session) throws -> String {
    let g = try generationConfig(inv, session)
    var partial = "", tokens = 0
    let reply: TextGeneration
    do {
        reply = try model.inference.generate(text: prompt, tokenizer: tok, config: g, addSpecialTokens: false,
                                             onToken: { _ in try session.checkCancelled(); tokens += 1 }) { partial += $0 }
    } catch is CancelledError {
        // An unfinished reply is not judged, so it is not given as an answer; the replay does not compare it.
        session.writeUnrecorded("(stopped after \(tokens) token\(tokens == 1 ? "" : "s"): an unfinished reply is not judged against "
                                + "abstain_below=, so nothing was answered; the model had written: \"\(partial)\")\n")
        session.stoppedByInterrupt()
        return ""
    }
    guard let c = ScoredReply(reply.generation, tokenizer: tok).answerConfidence else {
        session.writeLine(abstentionReply)
        session.writeLine("(abstained: the model gave no answer)")
        return abstentionReply
    }
    let facts = c.description
    guard c.meanTokenProbability >= threshold else {
        session.writeLine(abstentionReply)
        session.writeLine("(abstained: \(facts), below abstain_below=\(Value.format(threshold)); the model would have said: "
                          + "\"\(reply.text.count > 120 ? String(reply.text.prefix(117)) + "..." : reply.text)\")")
        return abstentionReply
    }
    session.writeLine(reply.text)
    session.writeLine("(confidence: \(facts))")
    return reply.text
}

/// Generates a reply, writing it through the session as it comes. Ctrl-C ends the reply where it is:
/// the text so far is returned and the session goes on; `save` records the command with
/// `max_new_tokens` set to the tokens written, so its replay ends at the same place.
func stream(_ model: ModelObject, _ tok: any Tokenizer, prompt: String, addSpecialTokens: Bool,
            _ inv: Invocation, _ session: Session) throws -> String {
    let g = try generationConfig(inv, session)
    var text = "", tokens = 0
    do {
        let reply = try model.inference.generate(text: prompt, tokenizer: tok, config: g, addSpecialTokens: addSpecialTokens,
                                                 onToken: { _ in try session.checkCancelled(); tokens += 1 }) { piece in
            session.write(piece)
            text += piece
        }
        text = reply.text
    } catch is CancelledError {
        session.writeLine()
        session.writeUnrecorded("(stopped)\n")
        if tokens > 0 { session.stoppedByInterrupt(replayWith: "max_new_tokens", value: "\(tokens)") } else { session.stoppedByInterrupt() }
        return text
    }
    session.writeLine()
    return text
}

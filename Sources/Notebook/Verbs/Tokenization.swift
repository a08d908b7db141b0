import Datasets
import Foundation
import Kernels
import Language
import NotebookFormat
import Support
import Tokenizers
import Training

// Tokenizing rows for training, the same way for the held-out rows, and views of what a row trains on.

/// How rows were tokenized, kept with the result so that evaluation rows (`make_trainer ... eval=`) are tokenized
/// the same way: the pipeline, the length, the tokenizer, and mode=default's chat template and answer format
/// (nil: sentences, unless format_prompts chose one).
struct TokenizationRecipe {
    var mode: String
    var maxLength: Int
    var tokenizer: any Tokenizer
    var chat: ChatTemplate?
    var answers: AnswerFormat?
    /// mode=default: keep rows whose whole answer max_length cut away (they train on nothing) instead of refusing.
    var allowEmpty = false
}

/// `dataObject`'s rows tokenized by `recipe`; errors point at the argument `data` (the rows) or `length` (max_length).
func tokenizeRows(_ dataObject: DatasetObject, _ recipe: TokenizationRecipe, _ inv: Invocation, _ session: Session,
                  data dataArgument: String, length lengthArgument: String) throws -> TokenizedDatasetObject {
    let data = dataObject.dataset, tok = recipe.tokenizer, maxLength = recipe.maxLength
    guard !data.isEmpty else { throw inv.error("the dataset is empty: nothing to tokenize", at: dataArgument) }
    guard let eos = tok.eosTokenId else { throw inv.error("the tokenizer has no EOS token", at: dataArgument) }
    let pad = tok.padTokenId ?? eos
    var examples: [TokenizedExample] = []
    var answerFormat = dataObject.answerFormat ?? AnswerFormat.bare.rawValue
    var truncated = 0, truncatedRows: Set<Int> = []
    var answerNote = ""
    if recipe.mode == "notebook" {
        guard data.rows.allSatisfy({ $0.text != nil }) else {
            throw inv.error("mode=notebook tokenizes each row's formatted text, and these rows have none", at: dataArgument,
                            hint: "run texts = format_prompts DATA first")
        }
        for (i, row) in data.rows.enumerated() {
            if i % 64 == 0 { try session.checkCancelled() }
            let ids = tok.encode(row.text!, addSpecialTokens: true)
            if ids.count > maxLength { truncated += 1; truncatedRows.insert(i) }
            examples.append(.notebook(tokens: ids, maxLength: maxLength, padTokenId: pad))
        }
    } else {
        let chat = recipe.chat!
        // the careful pipeline's answers: as sentences unless asked otherwise or already written by format_prompts
        let answers: AnswerFormat = recipe.answers ?? (dataObject.answerFormat == nil ? .sentence : .bare)
        if answers == .sentence { answerNote = ", answers as \"The answer is ….\"" }
        if recipe.answers != nil || dataObject.answerFormat == nil { answerFormat = answers.rawValue }
        for (i, row) in data.rows.enumerated() {
            if i % 64 == 0 { try session.checkCancelled() }
            do {
                let (ex, cut) = try TokenizedExample.chat(question: row.question, answer: answers.apply(row.answer), template: chat,
                                                           tokenizer: tok, maxLength: maxLength)
                if cut { truncated += 1; truncatedRows.insert(i) }
                examples.append(ex)
            } catch let error as TokenizedExample.ChatExampleError {
                throw inv.error("row \(i): \(error)", at: dataArgument)
            }
        }
    }
    let object = TokenizedDatasetObject(examples: examples, mode: recipe.mode, maxLength: maxLength, padTokenId: pad,
                                        truncatedRows: truncated, questions: data.rows.map(\.question),
                                        answerFormat: answerFormat, recipe: recipe, answerNote: answerNote)
    object.truncatedRowIndices = truncatedRows
    object.dataName = data.name
    object.dataFiles = data.loadReport.files
    object.sourceRows = data.rows.map(\.sourceRow)
    object.dataColumns = data.columnNames
    object.render = dataObject.render
    if object.targetTokens == 0 {
        if let chat = recipe.chat {
            // Every answer was cut off: the prompts alone fill max_length.
            let shortest = data.rows.map { tok.encode(chat.prompt(question: $0.question), addSpecialTokens: true).count }.min() ?? 0
            throw inv.error("every label is -100: nothing would be trained: every row's prompt (its question in the chat template, "
                            + "\(shortest) tokens at the shortest) fills max_length=\(maxLength), so no answer token is left to train on",
                            at: lengthArgument, hint: "raise max_length= above \(shortest) (mode=default trains on the answer after the prompt), or shorten the questions")
        }
        throw inv.error("every label is -100: nothing would be trained: within max_length=\(maxLength) every token of every row is the pad token "
                        + "(id \(pad)), which the collator masks", at: lengthArgument,
                        hint: "raise max_length=, or pad with another token (configure_tokenizer TOK pad=ID)")
    }
    // mode=default trains the end of turn so the model learns to stop; a row cut before it never sees one
    if recipe.mode == "default" {
        let ends = tok.endOfTurnTokenIds.union(tok.eosTokenId.map { [$0] } ?? [])
        let without = examples.filter { ex in !zip(ex.input_ids, ex.labels).contains { $1 != -100 && ends.contains($0) } }.count
        if without > 0 {
            object.warnings.append("warning: the end of turn is trained in \(examples.count - without) of \(examples.count) rows: max_length cut it "
                                   + "from the rest, and a model that never sees its answers end does not learn to stop (raise max_length=)")
        }
    }
    // rows that kept their prompt but lost the whole answer to max_length train on nothing
    let empty = examples.indices.filter { examples[$0].labels.allSatisfy { $0 == -100 } }
    if !empty.isEmpty {
        let which = "row\(empty.count == 1 ? "" : "s") " + empty.prefix(8).map(String.init).joined(separator: ", ") + (empty.count > 8 ? ", ..." : "")
        let what = "\(which) (\(empty.count) of \(examples.count)) lost the whole answer to max_length=\(maxLength): \(empty.count == 1 ? "it trains" : "they train") on nothing"
        if recipe.mode == "default" && !recipe.allowEmpty {
            throw inv.error(what, at: lengthArgument, hint: "raise max_length=, or give allow_empty=true to keep them (show_tokens TOKENS row=\(empty[0]) shows one)")
        }
        object.warnings.append("warning: " + what)
    }
    return object
}

/// A tokenized row as text: runs of trained and untrained tokens decoded together (so characters split across
/// tokens stay whole), the trained runs in [brackets] (plain) or in green (styled); padding left out and counted.
struct TokenView {
    var plain = "", styled = ""
    var realCount = 0, trainedCount = 0, paddingCount = 0

    init(_ ex: TokenizedExample, tokenizer: any Tokenizer) {
        let mask = ex.attention_mask ?? [Int](repeating: 1, count: ex.input_ids.count)
        var run: [Int] = [], runTrained = false
        func flush() {
            guard !run.isEmpty else { return }
            let text = tokenizer.decode(run, skipSpecialTokens: false)
            plain += runTrained ? "[" + text + "]" : text
            styled += runTrained ? "\u{1B}[1;32m" + text + "\u{1B}[0m" : "\u{1B}[2m" + text + "\u{1B}[0m"
            run = []
        }
        for (t, id) in ex.input_ids.enumerated() {
            guard mask[t] != 0 else { paddingCount += 1; continue }
            let trained = ex.labels[t] != -100
            realCount += 1
            if trained { trainedCount += 1 }
            if trained != runTrained { flush(); runTrained = trained }
            run.append(id)
        }
        flush()
    }
}

/// mode=default: nil when the first row's prompt, as trained, is token for token the prompt `ask` gives the model for
/// the same question (its own chat template, encoded as ask encodes it); else a warning naming the first difference.
/// A model trained on one prompt and asked with another answers in a format it never saw.
func promptAgreementWarning(_ model: ModelObject, _ tokens: TokenizedDatasetObject) -> String? {
    guard tokens.mode == "default", let recipe = tokens.recipe, let trainedWith = recipe.chat,
          let question = tokens.questions.first, let own = model.tokenizer?.tokenizer,
          let asked = ChatTemplate.detect(jinja: own.chatTemplate ?? "") else { return nil }
    let trained = recipe.tokenizer.encode(trainedWith.prompt(question: question), addSpecialTokens: true)
    let inference = own.encode(asked.prompt(question: question), addSpecialTokens: false)
    guard trained != inference else { return nil }
    let i = zip(trained, inference).prefix { $0 == $1 }.count
    func at(_ ids: [Int], _ tok: any Tokenizer) -> String {   // a few tokens from the difference, for context
        i < ids.count ? (tok.decode(Array(ids[i..<min(i + 8, ids.count)]), skipSpecialTokens: false) as String).debugDescription + "…"
                      : "the end of the prompt"
    }
    return "warning: row 0's prompt as trained and as ask gives it to this model differ at token \(i): "
        + "training has \(at(trained, recipe.tokenizer)), ask has \(at(inference, own)): the model is trained on a prompt it will not be asked with "
        + "(tokenize_dataset template= against the model's own chat template, or a start token added twice)"
}

/// make_trainer's `eval=`: held-out rows tokenized exactly as `tokens` were (a Dataset is tokenized here by the same
/// recipe; a TokenizedDataset must match it), or nil when not given.
func evaluationRows(_ inv: Invocation, _ session: Session, like tokens: TokenizedDatasetObject) throws -> TokenizedDatasetObject? {
    guard inv.has("eval") else { return nil }
    guard case .object(let object) = inv.value("eval") else {
        throw inv.error("eval= takes held-out rows: a Dataset or a TokenizedDataset", at: "eval", hint: "eval=parts.test (from parts = split DATA)")
    }
    if let held = object as? TokenizedDatasetObject {
        guard held.mode == tokens.mode, held.maxLength == tokens.maxLength, held.padTokenId == tokens.padTokenId else {
            throw inv.error("the held-out rows were tokenized in \(held.mode) mode to max_length \(held.maxLength) (pad id \(held.padTokenId)), "
                            + "the training rows in \(tokens.mode) mode to \(tokens.maxLength) (pad id \(tokens.padTokenId)): "
                            + "a validation loss needs the same tokenization", at: "eval",
                            hint: "give the Dataset itself (eval=ROWS): make_trainer tokenizes it as the training rows were")
        }
        return held
    }
    if let data = object as? DatasetObject {
        if data.dataset.isEmpty { return nil }   // no rows, no evaluation: a notebook parameter of 0 rows turns it off
        guard let recipe = tokens.recipe else {
            throw inv.error("these training rows do not record how they were tokenized, so held-out rows cannot be tokenized the same way",
                            at: "eval", hint: "tokenize the held-out rows with the same tokenize_dataset call and give that: eval=HELD_TOKENS")
        }
        var rows = data, formatted = ""
        if recipe.mode == "notebook", data.dataset.rows.contains(where: { $0.text == nil }) {
            // the training rows' texts came from format_prompts: the held-out rows get the same template and answers
            guard let render = tokens.render, let answers = AnswerFormat(rawValue: tokens.answerFormat) else {
                throw inv.error("mode=notebook tokenizes formatted texts, and these held-out rows have none", at: "eval",
                                hint: "format them as the training rows were (held_texts = format_prompts HELD ...), then eval=held_texts")
            }
            rows = DatasetObject(data.dataset.map { render($0.question, answers.apply($0.answer)) }.answers(writtenAs: answers),
                                 answerFormat: tokens.answerFormat, render: render)
            formatted = "formatted with the training rows' template, "
        }
        let held = try tokenizeRows(rows, recipe, inv, session, data: "eval", length: "eval")
        session.writeLine("held-out rows: " + formatted + held.factsLine)
        for warning in held.warnings { session.writeLine(warning) }
        return held
    }
    throw inv.error("eval= takes a Dataset or a TokenizedDataset, not a \(object.typeName)", at: "eval",
                    hint: "eval=parts.test (from parts = split DATA)")
}

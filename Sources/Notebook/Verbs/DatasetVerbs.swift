import Datasets
import Evaluation
import Foundation
import Language
import Support
import Tokenizers
import Weights

// The notebook's data steps as verbs: load a question/answer file, cut and mix it, and format each
// row into training text. Every verb returns a new Dataset; the one it was given is left as it was.

extension VerbGroup {
    /// `load_dataset`, `select`, `shuffle`, `split`, `filter`, `show_rows`, `count`, `format_prompts`.
    public static var datasets: VerbGroup {
        VerbGroup("Datasets", intro: "Load question/answer data, select, shuffle, split and filter it, and format rows into training text.", verbs: [
            Verb("load_dataset", summary: "Load a JSON array / JSON Lines file, or a Hugging Face dataset id from the local hub cache.",
                 details: "Rows without both columns, with a non-string value or with invalid UTF-8 are skipped and reported "
                    + "with their row numbers; with strict=true the first such row is an error.",
                 positional: [Parameter("source", .path, help: "a .json / .jsonl file, or ORG/NAME in the hub cache",
                                        completion: .path(extensions: ["json", "jsonl"]))],
                 keywords: [
                    Parameter("question", .string, default: .string(QAColumns.medicalO1.question), help: "the question column"),
                    Parameter("answer", .string, default: .string(QAColumns.medicalO1.answer), help: "the answer column"),
                    Parameter("strict", .bool, default: .bool(false), help: "fail on the first malformed row instead of skipping it"),
                    Parameter("aliases", .string, optional: true,
                              help: "other right ways to write each answer, which every matcher accepts: a column (a list of "
                                + "strings, or one string with | between them), or a .json file from each answer to its aliases"),
                 ],
                 examples: ["data = load_dataset ../shared/data/medical_o1_verifiable_problem.demo198.json",
                            "data = load_dataset FreedomIntelligence/medical-o1-verifiable-problem",
                            "data = load_dataset rows.json aliases=aliases.json"], makes: "Dataset") { inv, session in
                let aliases = try AliasSource.of(inv, session)
                var column: String?
                if case .column(let name)? = aliases { column = name }
                var dataset = try loadQADataset(try inv.string("source"), at: "source", strict: try inv.bool("strict"), aliasColumn: column,
                                                inv, session)
                session.writeLine(dataset.loadReport.summary)
                switch aliases {
                case .file(let file)?:
                    let table = try loadAliasTable(file, inv, session)
                    let (with, n) = dataset.addingAliases(table)
                    dataset = with
                    session.writeLine("aliases for \(n) of \(dataset.count) rows from \(file) (\(table.count) answers listed)")
                case .column(let column)?:
                    let n = dataset.rows.filter { !$0.aliases.isEmpty }.count
                    guard n > 0 else {
                        throw inv.error("no row has aliases in a column \"\(column)\"", at: "aliases",
                                        hint: "name the column that holds them, or a .json file from each answer to its aliases")
                    }
                    session.writeLine("aliases for \(n) of \(dataset.count) rows from the column \"\(column)\"")
                case nil: break
                }
                session.provenance["dataset"] = dataset.name
                return .object(DatasetObject(dataset))
            },

            Verb("select", summary: "The rows from start (inclusive) to end (exclusive), like dataset.select(range(start, end)).",
                 positional: [dataParameter,
                              Parameter("start", .int, default: .int(0), help: "first row (0-based)"),
                              Parameter("end", .int, optional: true, help: "one past the last row (default: the end)")],
                 keywords: [Parameter("count", .int, optional: true, help: "instead of end: this many rows from start (0: none)"),
                            Parameter("last", .int, optional: true, help: "instead of start and end: the last N rows (0: none)")],
                 examples: ["train = select data 0 200", "rest = select data start=200", "held = select data start=200 count=20",
                            "held = select data last=20"]) { inv, session in
                let object = try inv.object("data", as: DatasetObject.self), data = object.dataset
                if let last = try inv.optionalInt("last") {
                    if let other = ["start", "end", "count"].first(where: inv.has) {
                        throw inv.error("give last= alone, not with \(other)=", at: other)
                    }
                    guard (0...data.count).contains(last) else {
                        throw inv.error("last=\(last) is outside 0...\(data.count) (\(data.count) rows)", at: "last")
                    }
                    return .object(object.derived(try data.select((data.count - last)..<data.count)))
                }
                let start = try inv.int("start")
                if inv.has("end") && inv.has("count") {
                    throw inv.error("give end= or count=, not both", at: "count")
                }
                if let count = try inv.optionalInt("count"), count < 0 {
                    throw inv.error("count must be 0 or more, got \(count)", at: "count")
                }
                let end = try inv.optionalInt("end") ?? inv.optionalInt("count").map { start + $0 } ?? data.count
                guard start >= 0, start <= data.count else {
                    throw inv.error("start \(start) is outside 0...\(data.count) (\(data.count) rows)", at: "start")
                }
                if inv.has("count"), end > data.count {
                    throw inv.error("count \(end - start) from row \(start) runs past the end (\(data.count) rows)", at: "count",
                                    hint: "at most count=\(data.count - start)")
                }
                guard end >= start, end <= data.count else {
                    throw inv.error("end \(end) is outside \(start)...\(data.count) (\(data.count) rows)", at: "end")
                }
                return .object(object.derived(try data.select(start..<end)))
            },

            Verb("shuffle", summary: "The rows in a seeded random order (Python's random.Random(seed).shuffle).",
                 positional: [dataParameter],
                 keywords: [Parameter("seed", .int, optional: true, help: "the seed (default: the session's seed)")],
                 examples: ["mixed = shuffle data seed=42"]) { inv, session in
                let object = try inv.object("data", as: DatasetObject.self), data = object.dataset
                return .object(object.derived(data.shuffle(seed: try inv.optionalInt("seed") ?? session.seed)))
            },

            Verb("split", summary: "Split into train and test parts: a seeded random fraction, or at a row index.",
                 details: "Returns a record with the fields `train` and `test`.",
                 positional: [dataParameter],
                 keywords: [
                    Parameter("test", .double, default: .double(0.2), help: "the fraction of rows for test, drawn at random"),
                    Parameter("at", .int, optional: true, help: "split at this row instead: rows before it are train, the rest test"),
                    Parameter("seed", .int, optional: true, help: "the seed (default: the session's seed)"),
                 ],
                 examples: ["parts = split data test=0.2 seed=42", "parts = split data at=200", "train = parts.train"]) { inv, session in
                let object = try inv.object("data", as: DatasetObject.self), data = object.dataset
                let parts: (train: QADataset, test: QADataset)
                if let at = try inv.optionalInt("at") {
                    guard at >= 0, at <= data.count else { throw inv.error("at=\(at) is outside 0...\(data.count)", at: "at") }
                    parts = try data.split(at: at)
                } else {
                    let fraction = try inv.double("test")
                    do {
                        parts = try data.split(testFraction: fraction, seed: try inv.optionalInt("seed") ?? session.seed)
                    } catch let error as DatasetError {
                        throw inv.error(error.description, at: "test")
                    }
                }
                session.writeLine("train \(parts.train.count) rows, test \(parts.test.count) rows")
                return .object(RecordObject(typeName: "DatasetSplit", fields: [
                    ("train", .object(object.derived(parts.train))), ("test", .object(object.derived(parts.test))),
                ]))
            },

            Verb("filter", summary: "Keep rows whose question and answer are long enough and that contain a text.",
                 positional: [dataParameter],
                 keywords: [
                    Parameter("min_question", .int, default: .int(10), help: "least question length in characters"),
                    Parameter("min_answer", .int, default: .int(2), help: "least answer length in characters"),
                    Parameter("contains", .string, optional: true, help: "keep rows whose question or answer contains this (any case)"),
                 ],
                 examples: ["cardiac = filter data contains=\"heart\"", "long = filter data min_question=40"]) { inv, session in
                let object = try inv.object("data", as: DatasetObject.self), data = object.dataset
                let kept = data.filter(minQuestionLength: try inv.int("min_question"), minAnswerLength: try inv.int("min_answer"),
                                       contains: try inv.optionalString("contains"))
                session.writeLine("kept \(kept.count) of \(data.count) rows")
                return .object(object.derived(kept))
            },

            Verb("show_rows", summary: "Show rows as a table, cells cut to one line.",
                 positional: [dataParameter],
                 keywords: [Parameter("n", .int, default: .int(3), help: "how many rows"),
                            Parameter("offset", .int, default: .int(0), help: "the first row shown"),
                            Parameter("width", .int, default: .int(60), help: "characters per cell")],
                 examples: ["show_rows data n=5", "show_rows texts offset=10 n=2"]) { inv, session in
                let data = try inv.object("data", as: DatasetObject.self).dataset
                let n = try inv.int("n"), offset = try inv.int("offset"), width = try inv.int("width")
                guard n >= 0 else { throw inv.error("n must be >= 0, got \(n)", at: "n") }
                guard offset >= 0 else { throw inv.error("offset must be >= 0, got \(offset)", at: "offset") }
                guard width >= 4 else { throw inv.error("width must be at least 4, got \(width)", at: "width") }
                session.writeLine(data.preview(limit: n, offset: offset, width: width))
                return .none
            },

            Verb("count", summary: "The number of rows.",
                 positional: [dataParameter], examples: ["count data", "n = count data"]) { inv, _ in
                .int(try inv.object("data", as: DatasetObject.self).dataset.count)
            },

            Verb("format_prompts", summary: "Format every row into training text: the notebook's Llama-3 text, the model's chat template, or your own.",
                 details: "template=notebook is the notebook's format_prompt (the Llama-3 layout written literally); "
                    + "template=auto (or chat) uses the chat template of the tokenizer (or model) given with tokenizer=; "
                    + ChatTemplate.familyNames.joined(separator: ", ") + " name a template family; any other text is a custom template with "
                    + "{question} and {answer}. Rows with a question shorter than min_question or an answer shorter than "
                    + "min_answer characters are skipped and counted, as the notebook does.",
                 positional: [dataParameter],
                 keywords: [
                    Parameter("template", .string, default: .string(TemplateChoice.notebook),
                              help: "notebook, auto (or chat: the tokenizer's own), a family name, or \"... {question} ... {answer}\"",
                              completion: .values(TemplateChoice.names(extra: ["chat"]))),
                    Parameter("tokenizer", .object(""), optional: true, help: "the Tokenizer (or Model) whose chat template template=auto uses"),
                    Parameter("min_question", .int, default: .int(10), help: "skip questions shorter than this"),
                    Parameter("min_answer", .int, default: .int(2), help: "skip answers shorter than this"),
                    Parameter("answer_format", .choice(AnswerFormat.allCases.map(\.rawValue) + ["self"]), default: .string("bare"),
                              help: "bare: the answer as it is; sentence: \"The answer is X.\"; self: the model= answers each question first and keeps "
                                + "its own words where the careful matcher accepts them (the rows' answers change too, so tokenize_dataset mode=default trains on them)"),
                    Parameter("model", .object("Model"), optional: true, help: "answer_format=self: the model whose answers are kept (its adapter off)"),
                 ],
                 examples: ["texts = format_prompts train", "texts = format_prompts train template=chat tokenizer=model",
                            "texts = format_prompts train answer_format=sentence", "texts = format_prompts train template=chat tokenizer=model answer_format=self model=model",
                            "texts = format_prompts train template=\"Q: {question}\\nA: {answer}\""]) { inv, session in
                var data = try inv.object("data", as: DatasetObject.self).dataset
                let name = try inv.string("template")
                let minQ = try inv.int("min_question"), minA = try inv.int("min_answer")
                let render: @Sendable (String, String) -> String
                switch name {
                case TemplateChoice.notebook:
                    render = { PromptTemplate.notebookLlama3.render(question: $0, answer: $1) }
                case let name where TemplateChoice.names(extra: ["chat"]).contains(name):
                    let chat = try TemplateChoice.chat(named: name == "chat" ? TemplateChoice.auto : name) {
                        guard inv.has("tokenizer") else {
                            throw inv.error("template=\(name) needs the model's chat template", at: "template", hint: "add tokenizer=MODEL or tokenizer=TOK")
                        }
                        return try tokenizerChatTemplate(inv, "tokenizer")
                    }!
                    render = { chat.text(question: $0, answer: $1) }
                default:
                    let custom: PromptTemplate
                    do { custom = try PromptTemplate(text: name) } catch let error as DatasetError {
                        throw inv.error(error.description, at: "template", hint: "templates: " + TemplateChoice.names(extra: ["chat"]).joined(separator: ", ") + ", or text with {question} and {answer}")
                    }
                    render = { custom.render(question: $0, answer: $1) }
                }
                let answerFormat = AnswerFormat(rawValue: try inv.string("answer_format")) ?? .bare
                var distilled: Int? = nil
                if try inv.string("answer_format") == "self" {
                    guard inv.has("model") else {
                        throw inv.error("answer_format=self keeps a model's own answers: name the model", at: "answer_format", hint: "add model=MODEL")
                    }
                    let (rows, kept) = try selfDistilled(data, inv, session)
                    data = rows
                    distilled = kept
                }
                var skippedQuestion = 0, skippedAnswer = 0
                var formatted = data.map { row -> String? in
                    if row.question.unicodeScalars.count < minQ { skippedQuestion += 1; return nil }
                    if row.answer.unicodeScalars.count < minA { skippedAnswer += 1; return nil }
                    return render(row.question, answerFormat.apply(row.answer))
                }
                formatted = formatted.answers(writtenAs: answerFormat)
                var line = "formatted \(formatted.count) of \(data.count) rows with the \(name == "notebook" ? "notebook" : name.contains("{") ? "custom" : name) template"
                    + (answerFormat == .sentence ? ", answers as \"The answer is ….\"" : "")
                    + (distilled.map { ", \($0) answers in the model's own words (it was right), the rest as the dataset has them" } ?? "")
                let skipped = skippedQuestion + skippedAnswer
                if skipped > 0 {
                    var why: [String] = []
                    if skippedQuestion > 0 { why.append("\(skippedQuestion) question\(skippedQuestion == 1 ? "" : "s") shorter than \(minQ) characters") }
                    if skippedAnswer > 0 { why.append("\(skippedAnswer) answer\(skippedAnswer == 1 ? "" : "s") shorter than \(minA) characters") }
                    line += ", skipped \(skipped): " + why.joined(separator: ", ")
                }
                session.writeLine(line)
                return .object(DatasetObject(formatted, answerFormat: inv.has("answer_format") ? try inv.string("answer_format") : nil,
                                             render: render))
            },
        ])
    }

    static let dataParameter = Parameter("data", .object("Dataset"), help: "the dataset")

    /// `answer_format=self`: the model (adapter off) answers every question with the careful protocol, and the rows
    /// it got right keep its words (`SelfDistillation`).
    static func selfDistilled(_ data: QADataset, _ inv: Invocation, _ session: Session) throws -> (QADataset, Int) {
        let model = try inv.object("model", as: ModelObject.self)
        let (prompt, special) = carefulPrompt(named: "auto", try model.requireTokenizer())
        let careful = CarefulEvaluation(prompt: prompt, settings: .greedy(max_new_tokens: 48), batchSize: 8, rule: .normalised,
                                        showProgress: ProgressBar.enabled)
        let wasEnabled = model.lora?.adapterEnabled
        model.lora?.adapterEnabled = false
        defer { if let wasEnabled { model.lora?.adapterEnabled = wasEnabled } }
        let flag = CancellationFlag(poll: { session.takeInterrupt() })
        let run = try careful.run(test: data, generator: try makeGenerator(model, addSpecialTokens: special) { _ in },
                                  cancellation: flag, label: "own answers")
        if flag.isCancelled { throw CancelledError() }
        guard !run.examples.isEmpty || data.rows.isEmpty else { throw failure(run) }
        let (rows, kept) = SelfDistillation.rows(data, run: run)
        return (rows, kept)
    }
}

/// What `load_dataset ... aliases=` names: a file of aliases by answer (a name ending in .json, or a file that
/// exists), or else the column holding each row's aliases.
enum AliasSource: Equatable {
    case file(String)
    case column(String)

    /// The source `aliases=` gives, decided once; nil when the option is not given.
    static func of(_ inv: Invocation, _ session: Session) throws -> AliasSource? {
        guard let value = try inv.optionalString("aliases") else { return nil }
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: session.resolvePath(value).path, isDirectory: &isDirectory)
        return value.lowercased().hasSuffix(".json") || (exists && !isDirectory.boolValue) ? .file(value) : .column(value)
    }
}

/// The alias file `aliases=` names, its errors pointing at the option.
func loadAliasTable(_ file: String, _ inv: Invocation, _ session: Session) throws -> AliasTable {
    do { return try QADataset.loadAliases(path: session.resolvePath(file).path) } catch let e as DatasetError {
        throw inv.error(e.description, at: "aliases")
    }
}

/// Question/answer rows from a path (in the session's folder) or a hub id, by ``ResourceName``'s rule,
/// with the verb's `question=`/`answer=` columns and, when given, the column of the answers' aliases. A load
/// error points at the argument `at`; rows with other keys get a hint naming the verb's own column options
/// and the keys found.
func loadQADataset(_ source: String, at argument: String, strict: Bool = false, aliasColumn: String? = nil,
                   _ inv: Invocation, _ session: Session) throws -> QADataset {
    let columns = QAColumns(question: try inv.string("question"), answer: try inv.string("answer"), aliases: aliasColumn)
    var target = source
    if case .path = ResourceName.classify(source, directory: session.directory) { target = session.resolvePath(source).path }
    do {
        return try QADataset.load(source: target, columns: columns, strict: strict, environment: session.environment,
                                  directory: session.directory)
    } catch let error as DatasetError {
        var hint: String? = nil
        if case .missingColumns(_, _, let found) = error, let q = inv.option("question"), let a = inv.option("answer") {
            let keys = found.count == 2 ? found.map(Value.quote) : ["KEY", "KEY"]
            hint = "name the columns: \(inv.verb.name) \(source) \(q)\(keys[0]) \(a)\(keys[1])"
        }
        throw inv.error(error.description, at: argument, hint: hint)
    }
}

/// The tokenizer passed for `name`: a Tokenizer object, or a Model's own tokenizer.
func tokenizerArgument(_ inv: Invocation, _ name: String) throws -> any Tokenizer {
    guard case .object(let object) = inv.value(name) else { throw inv.error("'\(inv.verb.name)' needs \(name) as a Tokenizer or Model", at: name) }
    if let tok = object as? TokenizerObject { return tok.tokenizer }
    if let model = object as? ModelObject {
        guard let tok = model.tokenizer else { throw inv.error("this model has no tokenizer: load one with load_tokenizer", at: name) }
        return tok.tokenizer
    }
    throw inv.error("'\(inv.verb.name)' needs a Tokenizer or Model for \(name), not a \(object.typeName)", at: name)
}

import Foundation
import Language
import Llama
import Notebook
import Support
import Testing
import Training

/// Settings are declared once, in the engine's tables (`TrainingArguments.settings`, `LoraConfig.settings`): the
/// verbs' parameters, `show`, `args.NAME`, the checks and training_args.json must all follow the table.
@Suite struct SettingsTests {
    /// A value outside `range`, for a setting of `kind`.
    static func outside(_ range: SettingRange, _ kind: SettingKind) -> String? {
        switch range.phrase {
        case SettingRange.positiveInteger.phrase: return "-2"
        case SettingRange.nonNegative.phrase: return "-1"
        case SettingRange.positive.phrase, SettingRange.finiteNonNegative.phrase: return "-0.5"
        case SettingRange.belowOne.phrase: return "1.5"
        case SettingRange.nonEmpty.phrase: return "[]"
        default: return nil
        }
    }

    /// A value inside the range other than the default, as written and as `NAME` then shows it.
    static func inside(_ kind: SettingKind, _ range: SettingRange?, current: Value) -> String? {
        switch kind {
        case .int: return current == .int(3) ? "4" : "3"
        case .double: return range?.phrase == SettingRange.belowOne.phrase ? "0.25" : (current == .double(3) ? "4.0" : "3.0")
        case .bool: return current == .bool(true) ? "false" : "true"
        case .path: return "\"/tmp/settings-test\""
        case .strings: return "[\"q_proj\"]"
        case .string, .choice: return nil
        }
    }

    func check<Root>(verb: String, _ table: SettingsTable<Root>, prefix: String) throws {
        let (session, _) = NotebookFixtures.session()
        let made = try #require(session.registry.verb(named: verb))
        #expect(made.keywords.map(\.name) == table.names, "\(verb)'s parameters are the table's settings")
        try session.run("x = \(verb) \(prefix)", file: "<test>")
        guard case .object(let object)? = session.value(named: "x") else { Issue.record("\(verb) made no object"); return }
        #expect(Array(object.fieldNames.prefix(table.names.count)) == table.names, "`show` lists the table")
        for s in table.settings {
            // every setting reads back as the field of the same name
            let current = try #require(object.field(s.name), "\(s.name) is a field")
            #expect(current == Value(s.value(of: try #require(Self.root(object) as? Root))))
            // a value in range is stored and shown
            if let value = Self.inside(s.kind, s.range, current: current) {
                let others = prefix.contains("\(s.name)=") ? "" : prefix
                try session.run("y = \(verb) \(others) \(s.name)=\(value)\ny_value = y.\(s.name)", file: "<test>")
                let shown = try #require(session.value(named: "y_value"))
                let written = s.kind == .path ? shown.text : shown.display
                let expected = s.kind == .path ? String(value.dropFirst().dropLast()) : value
                #expect(written == expected, "\(s.name)=\(value) reads back as \(written)")
            }
            // a value out of range is an error naming the setting, pointing at it
            if let range = s.range, let bad = Self.outside(range, s.kind) {
                do {
                    try session.run("z = \(verb) \(prefix) \(s.name)=\(bad)", file: "<test>")
                    Issue.record("\(s.name)=\(bad) was accepted")
                } catch {
                    #expect("\(error)".contains("error: \(s.name) must be \(range.phrase), got"), "\(error)")
                    #expect("\(error)".contains("\(s.name): \(s.help)"), "\(error)")
                }
            }
        }
    }

    static func root(_ object: LiveObject) -> Any? {
        (object as? TrainingArgumentsObject)?.arguments ?? (object as? LoraConfigObject)?.config
    }

    @Test func trainingArgumentsFollowTheirTable() throws {
        try check(verb: "training_args", TrainingArguments.settings, prefix: "output_dir=/tmp/settings-test")
    }

    @Test func loraConfigFollowsItsTable() throws {
        try check(verb: "lora_config", LoraConfig.settings, prefix: "")
    }

    /// The verbs' defaults are the notebook's recipe, which the engine declares (`.notebook`).
    @Test func defaultsAreTheNotebooksRecipe() throws {
        let (session, _) = NotebookFixtures.session()
        try session.run("seed 7\nargs = training_args output_dir=/tmp/x\ncfg = lora_config", file: "<test>")
        guard case .object(let a)? = session.value(named: "args"), let args = (a as? TrainingArgumentsObject)?.arguments,
              case .object(let c)? = session.value(named: "cfg"), let cfg = (c as? LoraConfigObject)?.config else {
            Issue.record("no objects"); return
        }
        var expected = TrainingArguments.notebook(output_dir: "/tmp/x")
        expected.seed = 7
        #expect(args == expected)
        var expectedLora = LoraConfig.notebook
        expectedLora.seed = 7
        #expect(cfg == expectedLora)
        #expect(cfg.r == 16 && cfg.lora_alpha == 32 && cfg.lora_dropout == 0.05 && cfg.target_modules.count == 7)
        #expect(args.learning_rate == 2e-4 && args.gradient_accumulation_steps == 4 && args.warmup_steps == 10)
    }

    /// The engine checks a settings value built in Swift with the same table and words.
    @Test func theEngineChecksWithTheSameTable() throws {
        var args = TrainingArguments.notebook(output_dir: "/tmp/x")
        args.warmup_steps = -1
        #expect(throws: SettingError.self) { try args.validate() }
        do { try args.validate() } catch let e as SettingError {
            #expect(e.name == "warmup_steps" && e.description == "warmup_steps must be >= 0, got -1")
        }
        args.warmup_steps = 0
        args.save_total_limit = 0           // set in Swift, 0 is not "keep all" (nil is)
        #expect(throws: SettingError.self) { try args.validate() }
        #expect(throws: LoraError.self) { try LoraConfig(r: 4, lora_alpha: 0) }
        #expect(throws: LoraError.self) { try LoraConfig(bias: "all") }
        // a count given as 0 by a user is stored as unset
        var limited = TrainingArguments.notebook(output_dir: "/tmp/x")
        try TrainingArguments.settings["save_total_limit"]!.set(.int(0), in: &limited)
        #expect(limited.save_total_limit == nil)
        #expect(TrainingArguments.settings.dictionary(limited)["save_total_limit"]! == nil)
    }

    /// One sampling settings type: `ask` and `generate` take the whole table, the evaluation verbs its four
    /// with the notebook protocol's defaults (do_sample left to the protocol).
    @Test func samplingParametersFollowTheGenerationTable() throws {
        let registry = Registry.standard()
        for name in ["ask", "generate"] {
            let verb = try #require(registry.verb(named: name))
            let names = verb.keywords.map(\.name).filter { GenerationConfig.settings.names.contains($0) }
            #expect(names == GenerationConfig.settings.names, "\(name)")
        }
        for name in ["evaluate", "compare"] {
            let verb = try #require(registry.verb(named: name))
            let defaults = Dictionary(uniqueKeysWithValues: verb.keywords.map { ($0.name, $0.defaultValue) })
            #expect(defaults["max_new_tokens"] == .some(.int(50)) && defaults["temperature"] == .some(.double(0.3))
                    && defaults["top_p"] == .some(.double(0.9)), "\(name)")
            #expect(defaults["do_sample"] == .some(nil), "\(name): the protocol chooses")
        }
        for (name, bad) in [("max_new_tokens", SettingValue.int(-1)), ("temperature", .double(0)), ("top_p", .double(1.5)),
                            ("top_k", .int(-1)), ("repetition_penalty", .double(0))] {
            var g = GenerationConfig()
            #expect(throws: SettingError.self) { try GenerationConfig.settings[name]!.set(bad, in: &g) }
        }
    }
}

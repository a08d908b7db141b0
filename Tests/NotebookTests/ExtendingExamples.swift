// The examples of docs/extending.md, compiled and run: ExtendingGuideTests checks that every `swift` block of the
// guide appears here as written, and runs them. Edit the guide and this file together.
import Foundation
import Language
import Llama
import Support

/// A model's config.json, read without its weights: `cfg = read_config PATH`, `show cfg`, `cfg.hidden_size`.
final class ConfigObject: LiveObject {
    let config: LlamaConfig
    let source: String
    init(_ config: LlamaConfig, source: String) { self.config = config; self.source = source }

    var typeName: String { "LlamaConfig" }
    var summary: String { "\(config.num_hidden_layers) layers, hidden size \(config.hidden_size), from \(source)" }
    var fieldNames: [String] { ["num_hidden_layers", "hidden_size", "vocab_size"] }
    func field(_ name: String) -> Value? {
        switch name {
        case "num_hidden_layers": return .int(config.num_hidden_layers)
        case "hidden_size": return .int(config.hidden_size)
        case "vocab_size": return .int(config.vocab_size)
        default: return nil
        }
    }
}

extension VerbGroup {
    static var configs: VerbGroup {
        VerbGroup("Configs", intro: "Read model configs.", verbs: [
            Verb("read_config", summary: "Read a model's config.json without its weights.",
                 positional: [Parameter("path", .path, help: "config.json, or the model's folder",
                                        completion: .path(extensions: ["json"]))],
                 examples: ["cfg = read_config models/tinyllama"]) { inv, session in
                var url = session.resolvePath(try inv.string("path"))
                if url.pathExtension != "json" { url.appendPathComponent("config.json") }
                let config = try LlamaConfig.load(from: url)
                session.writeLine("read \(url.lastPathComponent): \(config.num_hidden_layers) layers")
                return .object(ConfigObject(config, source: url.path))
            },
        ])
    }
}


/// How many answers to draw per question, declared once: the verb's parameters, its checks, `show` and
/// `docs/language.md` all come from this table.
struct DrawSettings: Equatable {
    var answers: Int = 4
    var temperature: Double = 0.7
    var keep_empty: Bool = false

    static let settings = SettingsTable<DrawSettings>([
        Setting("answers", \.answers, .positiveInteger, help: "answers drawn per question"),
        Setting("temperature", \.temperature, .positive, help: "divides the logits when sampling"),
        Setting("keep_empty", \.keep_empty, help: "keep answers with no text"),
    ])
}

let drawVerb = Verb("draw_settings", summary: "Settings for drawing several answers per question.",
                    keywords: DrawSettings.settings.parameters(defaults: DrawSettings())) { inv, session in
    var settings = DrawSettings()
    try DrawSettings.settings.store(inv, into: &settings, session: session)   // "answers must be a positive integer, got 0"
    return .object(RecordObject(typeName: "DrawSettings",
                                fields: DrawSettings.settings.names.map { ($0, DrawSettings.settings.field($0, of: settings)!) }))
}

import Foundation
import Language
import Notebook
import TestSupport
import Testing

@Suite struct RegistryTests {
    @Test func committedLanguageReferenceIsUpToDate() throws {
        let path = Repository.url("docs/language.md")
        let committed = try String(contentsOf: path, encoding: .utf8)
        let generated = Help.languageReference(Registry.standard()) + "\n"
        #expect(committed == generated, "docs/language.md is stale: regenerate it with `swift run medrepl docs > docs/language.md`")
    }

    @Test func everyVerbIsDocumentedAndHasAnExampleThatParses() throws {
        let registry = Registry.standard()
        for verb in registry.verbs {
            #expect(!verb.summary.isEmpty, "\(verb.name)")
            #expect(!verb.examples.isEmpty, "\(verb.name) has no example")
            // a parameter's help is its own, or for an object the verb that makes one (Verb.makes)
            for p in verb.allParameters { #expect(!registry.help(of: p).isEmpty, "\(verb.name) \(p.name)") }
            for example in verb.examples {
                #expect(throws: Never.self) { try Parser.parse(SourceText(file: "", text: example), verbs: registry.verbNames) }
            }
        }
    }

    @Test func helpShowsUsageAndArguments() throws {
        let (session, output) = NotebookFixtures.session()
        try session.run("help sleep")
        #expect(output() == """
            usage: sleep SECONDS

            Wait a number of seconds; Ctrl-C stops it (try it to see cancellation work).

            arguments:
              SECONDS  float  how long to wait: 0 to 3600 (an hour)

            examples:
              sleep 0.5

            """)
        #expect(throws: LanguageError.self) { try session.run("help slep") }
    }

    @Test func engineVerbsCanBeRegisteredLater() throws {
        let registry = Registry.standard()
        registry.register(Verb("load_thing", summary: "Make a thing.",
                               positional: [Parameter("size", .int, help: "how big")],
                               keywords: [Parameter("kind", .choice(["a", "b"]), default: .string("a"), help: "which kind")],
                               examples: ["t = load_thing 3"]) { inv, _ in
            .object(RecordObject(typeName: "Thing", fields: [("size", .int(try inv.int("size"))), ("kind", inv.value("kind"))]))
        }, group: "Things")
        let session = Session(registry: registry, output: OutputSink(), environment: [:])
        try session.run("t = load_thing 3 kind=b")
        guard case .object(let o)? = session.value(named: "t") else { Issue.record("no object"); return }
        #expect(o.typeName == "Thing" && o.field("kind") == .string("b"))
        do { try session.run("load_thing 3 kind=c", file: "<t>") } catch {
            #expect("\(error)" == "<t>:1:19: error: 'load_thing' kind must be one of a, b, not \"c\"\n  load_thing 3 kind=c\n                    ^")
        }
        #expect(Help.languageReference(registry).contains("## Things\n\n### `load_thing`"))
    }
}

import Foundation
import Language
import Support

/// The longest `sleep`, in seconds: a pause to try Ctrl-C on, not a way to wait for hours.
let sleepLimit = 3600

extension VerbGroup {
    /// Names, values and the session itself.
    public static var core: VerbGroup {
        VerbGroup("Session", intro: "Names, values and the session itself.", verbs: [
            Verb("help", summary: "List the verbs, or explain one.",
                 positional: [Parameter("verb", .name, optional: true, help: "the verb to explain", completion: .verbs)],
                 examples: ["help", "help check"]) { inv, session in
                if let name = try inv.optionalString("verb") {
                    guard let verb = session.registry.verb(named: name) else {
                        throw inv.error("unknown verb '\(name)'", at: "verb",
                                        hint: Suggest.hint(for: name, in: Array(session.registry.verbNames)))
                    }
                    session.writeLine(Help.verb(verb, in: session.registry))
                } else {
                    session.writeLine(Help.overview(session.registry))
                }
                return .none
            },
            Verb("vars", summary: "List the names in the session with their types and summaries.",
                 examples: ["vars"]) { _, session in
                if session.names.isEmpty { session.writeLine("(no names yet)") }
                let width = session.names.map(\.count).max() ?? 0
                let typeWidth = session.names.map { (session.value(named: $0) ?? .none).typeName.count }.max() ?? 0
                for name in session.names {
                    let v = session.value(named: name) ?? .none
                    let summary: String
                    if case .object(let o) = v { summary = o.summary } else { summary = Self.shortDisplay(v) }
                    session.writeLine(name.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                                      + v.typeName.padding(toLength: typeWidth, withPad: " ", startingAt: 0) + "  " + summary)
                }
                return .none
            },
            Verb("show", summary: "Show a value, or an object with all its fields.",
                 positional: [Parameter("value", .any, help: "a name, a field path or a literal")],
                 examples: ["show trainer", "show trainer.args.learning_rate"]) { inv, session in
                let v = inv.value("value")
                if case .object(let o) = v { session.writeLine(o.details()) } else { session.writeLine(v.display) }
                return .none
            },
            Verb("del", summary: "Forget names and free the objects they held (the notebook's \"clear memory\").",
                 rest: Parameter("names", .name, help: "the names to forget"),
                 examples: ["del model trainer"]) { inv, session in
                guard !inv.rest.isEmpty else { throw inv.error("'del' needs at least one name", hint: "usage: del NAME...") }
                for (i, value) in inv.rest.enumerated() {
                    guard case .string(let name) = value, session.remove(name) != nil else {
                        throw inv.error("unknown name '\(value.text)'", at: "names.\(i)", hint: Suggest.hint(for: value.text, in: session.names))
                    }
                }
                return .none
            },
            Verb("set", summary: "Give a name a value (the same as `NAME = VALUE`).",
                 positional: [Parameter("name", .name, help: "the name to set"),
                              Parameter("value", .any, help: "the value")],
                 examples: ["set rows 200", "rows = 200"], quietResult: true) { inv, session in
                let name = try inv.string("name")
                session.set(name, inv.value("value"))
                return inv.value("value")
            },
            Verb("print", summary: "Write values on one line, separated by spaces (text without quotes).",
                 rest: Parameter("values", .any, optional: true, help: "what to write"),
                 keywords: [Parameter("sep", .string, default: .string(" "), help: "what goes between values")],
                 examples: ["print \"rows:\" n", "print model.summary"]) { inv, session in
                session.writeLine(inv.rest.map(\.text).joined(separator: try inv.string("sep")))
                return .none
            },
            Verb("echo", summary: "Write words as given, like a shell: names show their values, other words are text.",
                 rest: Parameter("words", .text, optional: true, help: "the words to write"),
                 examples: ["echo training on ${MEDREPL_DATA:-data/train.json} rows"]) { inv, session in
                session.writeLine(inv.rest.map(\.text).joined(separator: " "))
                return .none
            },
            Verb("seed", summary: "Set the seed that sampling, shuffling and initialisation use by default.",
                 positional: [Parameter("value", .int, help: "the seed")],
                 examples: ["seed 42"]) { inv, session in
                session.seed = try inv.int("value")
                session.provenance["seed"] = String(session.seed)
                return .none
            },
            Verb("sleep", summary: "Wait a number of seconds; Ctrl-C stops it (try it to see cancellation work).",
                 positional: [Parameter("seconds", .double, help: "how long to wait: 0 to \(sleepLimit) (an hour)")],
                 examples: ["sleep 0.5"]) { inv, session in
                let seconds = try inv.double("seconds")
                guard seconds >= 0 && seconds <= Double(sleepLimit) else {
                    throw inv.error("sleep takes 0 to \(sleepLimit) seconds (an hour), not \(seconds == seconds.rounded() && abs(seconds) < 1e15 ? String(Int(seconds)) : Value.format(seconds))", at: "seconds",
                                    hint: seconds > Double(sleepLimit) ? "a longer pause is no use in a notebook; Ctrl-C stops a sleep early" : nil)
                }
                let end = Date().addingTimeInterval(seconds)
                while Date() < end {
                    try session.checkCancelled()
                    usleep(UInt32(min(50_000, max(1_000, end.timeIntervalSinceNow * 1e6))))
                }
                try session.checkCancelled()
                return .none
            },
            Verb("exit", summary: "Leave medrepl (Ctrl-D does too).",
                 positional: [Parameter("status", .int, default: .int(0), help: "the exit status")],
                 examples: ["exit"], quietResult: true) { inv, session in
                session.exitRequested = Int32(truncatingIfNeeded: try inv.int("status"))
                return .none
            },
        ])
    }

    /// A value as `vars` lists it: on one line, a long text cut with its length (`show NAME` prints it whole).
    static func shortDisplay(_ value: Value, limit: Int = 60) -> String {
        guard case .string(let text) = value, text.count > limit || text.contains("\n") else { return value.display }
        let firstLine = text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let cut = Value.string(String(firstLine.prefix(limit))).display
        return cut.dropLast() + "…\" (\(formatCount(text.count)) characters; show NAME prints it)"
    }
}

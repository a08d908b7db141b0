import Foundation

/// Statements run in a session and the output each printed: what `save` writes as a notebook.
///
/// Every way in records the same way: the shell's cells, `medrepl -c`, a script on standard input;
/// each statement is an entry of its own (`a; b` makes two). A statement Ctrl-C stopped is recorded so that its replay stops at the same point where
/// the verb can say how (`train … until_step=4`, `ask … max_new_tokens=57`), else it is marked so
/// `run --check` runs it and does not compare its output.
///
/// ```swift
/// session.runRecorded("x = 3; print x", file: "<cell>")   // two entries in session.transcript
/// ```
public struct TranscriptEntry: Sendable {
    /// How a stopped statement is replayed to the point where it stopped.
    public struct Interruption: Sendable, Equatable {
        /// The keyword and value that make the replay stop there; nil when the verb cannot say.
        public var keyword: String?
        public var value: String?
    }

    /// The command as it is replayed (with the stopping keyword when it was stopped).
    public var command: String
    /// What it printed, minus what a replay would not print (the notices of the interruption).
    public var output: String
    /// True when the command ended in an error (`save` leaves it out).
    public var failed: Bool
    /// Set when Ctrl-C stopped it.
    public var interruption: Interruption?

    public init(command: String, output: String, failed: Bool, interruption: Interruption? = nil) {
        self.command = command; self.output = output; self.failed = failed; self.interruption = interruption
    }

    /// True when a replay of `command` prints `output` again: it ran whole, or it stopped where a keyword
    /// makes the replay stop too.
    public var replaysExactly: Bool { interruption == nil || interruption?.keyword != nil }
}

extension Session {
    /// A verb that Ctrl-C stopped part-way, keeping what it did, calls this so `save` records it faithfully:
    /// with `keyword=value` when that makes a replay stop at the same point, else with nothing (a replay
    /// then runs it whole and `run --check` does not compare its output). Its notice of the stop goes
    /// through `writeUnrecorded`, as it is not part of what a replay prints.
    public func stoppedByInterrupt(replayWith keyword: String? = nil, value: String? = nil) {
        interruptRecord = TranscriptEntry.Interruption(keyword: keyword, value: value)
    }

    /// Writes text the user sees but a recording leaves out (notices of an interruption).
    public func writeUnrecorded(_ text: String) { output.writeUnrecorded(text) }

    /// Runs commands as `run` does and appends each statement that ran to `transcript` with what it
    /// printed. Returns the error that stopped the commands, if any (the caller shows it).
    @discardableResult
    public func runRecorded(_ text: String, file: String, firstLine: Int = 1) -> Error? {
        let statements: [Statement]
        do {
            statements = try Parser.parse(SourceText(file: file, text: text, firstLine: firstLine), verbs: registry.verbNames)
        } catch {
            transcript.append(TranscriptEntry(command: text, output: "", failed: true))
            return error
        }
        for statement in statements {
            var command = statement.text
            output.beginCapture()
            interruptRecord = nil
            var failure: Error? = nil
            do { try execute(statement) } catch { failure = error }
            let printed = output.endCapture()
            if failure is CancelledError, interruptRecord == nil { interruptRecord = TranscriptEntry.Interruption() }
            var interruption = interruptRecord
            interruptRecord = nil
            if let keyword = interruption?.keyword, let value = interruption?.value {
                if let rewritten = Self.command(command, setting: keyword, to: value, verbs: registry.verbNames) {
                    command = rewritten
                } else {
                    interruption = TranscriptEntry.Interruption()   // no place for the keyword: replayed whole
                }
            }
            transcript.append(TranscriptEntry(command: command, output: printed,
                                              failed: failure != nil && !(failure is CancelledError), interruption: interruption))
            if let failure { return failure }
            if exitRequested != nil { break }
        }
        return nil
    }

    /// One statement's text with `keyword=value`: the keyword's value replaced where it is given on one
    /// line, else added after the last argument. Nil when it cannot be placed.
    ///
    /// ```swift
    /// Session.command("ask m \"Hi\"", setting: "max_new_tokens", to: "7", verbs: ["ask"])   // ask m "Hi" max_new_tokens=7
    /// ```
    static func command(_ command: String, setting keyword: String, to value: String, verbs: Set<String>) -> String? {
        guard let statements = try? Parser.parse(SourceText(file: "", text: command), verbs: verbs),
              statements.count == 1, let statement = statements.first else { return nil }
        var lines = command.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        func place(_ range: SourceRange, replacing: Bool, with text: String) -> String? {
            let row = range.line - 1
            guard lines.indices.contains(row) else { return nil }
            var chars = Array(lines[row])
            let start = range.column - 1 + (replacing ? 0 : range.length)
            let end = replacing ? start + range.length : start
            guard start >= 0, end <= chars.count else { return nil }
            chars.replaceSubrange(start..<end, with: Array(text))
            lines[row] = String(chars)
            return lines.joined(separator: "\n")
        }
        if let given = statement.arguments.first(where: { $0.name == keyword }) {
            guard case .int = given.value.kind else { return nil }
            return place(given.value.range, replacing: true, with: value)
        }
        guard let after = statement.arguments.last?.value.range ?? statement.verbRange,
              after.line == statement.lines.upperBound else { return nil }   // a value over several lines: no place
        return place(after, replacing: false, with: " \(keyword)=\(value)")
    }
}

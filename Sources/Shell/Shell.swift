import Foundation
import Language
import NotebookFormat

/// The interactive shell: a prompt with the cell number, multi-line cells, and a session that
/// survives errors and Ctrl-C.
///
/// ```swift
/// let shell = Shell(session: Session(registry: .standard(), output: .standardOutput()))
/// let status = shell.run()   // until Ctrl-D or `exit`
/// ```
public final class Shell {
    public let session: Session
    let editor: LineEditor

    public init(session: Session, historyPath: String? = LineEditor.defaultHistoryPath()) {
        self.session = session
        self.editor = LineEditor(historyPath: historyPath, completer: Completer(session: session))
    }

    /// The prompt for the next cell: `[3]> `; continuation lines get `...> ` of the same width.
    public static func prompt(cell: Int) -> String { "[\(cell)]> " }
    public static func continuationPrompt(cell: Int) -> String {
        String(repeating: " ", count: max(0, prompt(cell: cell).count - 5)) + "...> "
    }

    /// Reads and runs cells until Ctrl-D or `exit`; returns the exit status.
    public func run() -> Int32 {
        Interrupts.install()
        session.writeLine("medrepl \(MedreplVersion.string): type 'help' for the verbs, Tab to complete, Ctrl-D to leave")
        while session.exitRequested == nil {
            let cell = session.cellCount + 1
            guard let text = readCell(cell) else { break }
            if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { continue }
            session.cellCount = cell
            Interrupts.take()   // a Ctrl-C typed before Enter belongs to the prompt
            if let error = session.runRecorded(text, file: "[\(cell)]") {
                let message = error is CancelledError ? "interrupted" : "\(error)"
                session.writeUnrecorded(message.hasSuffix("\n") ? message : message + "\n")
            }
            Interrupts.take()   // one the cell did not consume must not cancel the next
        }
        if session.exitRequested == nil { fputs("\n", stdout) }
        return session.exitRequested ?? 0
    }

    /// One cell: a line, and more lines while the statement is unfinished. The history gets the whole cell
    /// as one entry, so Up recalls a statement typed over several lines whole. Nil at end of input.
    func readCell(_ cell: Int) -> String? {
        var lines: [String] = []
        while true {
            let prompt = lines.isEmpty ? Shell.prompt(cell: cell) : Shell.continuationPrompt(cell: cell)
            switch editor.readLine(prompt: prompt) {
            case .endOfInput:
                if !lines.isEmpty { editor.remember(Shell.historyEntry(lines)) }
                return lines.isEmpty ? nil : lines.joined(separator: "\n")
            case .interrupted:
                lines = []
                continue
            case .line(let line):
                lines.append(line)
                let text = lines.joined(separator: "\n")
                if !Lexer.needsContinuation(text) {
                    editor.remember(Shell.historyEntry(lines))
                    return text
                }
            }
        }
    }

    /// A cell as the history keeps it: lines continued only by an open bracket joined into one line (a
    /// newline inside brackets is a space), so the recalled entry edits like any other; a cell that needs its
    /// line breaks (a `\"\"\"` text, a `\` continuation, a comment) keeps them.
    static func historyEntry(_ lines: [String]) -> String {
        let text = lines.joined(separator: "\n")
        guard lines.count > 1, !text.contains("\"\"\""), !text.contains("#"),
              !lines.contains(where: { $0.trimmingCharacters(in: .whitespaces).hasSuffix("\\") }) else { return text }
        return lines.enumerated().map { $0.offset == 0 ? $0.element : $0.element.trimmingCharacters(in: .whitespaces) }
            .joined(separator: " ")
    }
}

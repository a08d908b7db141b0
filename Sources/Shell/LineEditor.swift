import CEditLine
import Foundation
import Language

/// The libedit line editor, through its readline-compatible interface: prompt, history file,
/// Tab completion, `~/.editrc` (libedit reads it when it starts; `medrepl:` lines apply to us only).
///
/// Ctrl-C at the prompt: our own `rl_getc_function` reads the terminal; when `read` is interrupted
/// by SIGINT (the handler is installed without `SA_RESTART`) it reports end of input, and
/// `readLine` tells that apart from Ctrl-D by the pending interrupt.
///
/// ```swift
/// let editor = LineEditor(historyPath: LineEditor.defaultHistoryPath(), completer: Completer(session: session))
/// switch editor.readLine(prompt: "[1]> ") { case .line(let s): ...; case .interrupted: ...; case .endOfInput: ... }
/// ```
public final class LineEditor {
    public enum Input: Equatable {
        case line(String)
        /// Ctrl-C at the prompt: drop what was typed.
        case interrupted
        /// Ctrl-D on an empty line, or the terminal closed.
        case endOfInput
    }

    let historyPath: String?
    static var completer: Completer?
    static var candidates: [String] = []

    /// $MEDREPL_HISTORY, or ~/.medrepl_history.
    public static func defaultHistoryPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let path = environment["MEDREPL_HISTORY"], !path.isEmpty { return path }
        return (environment["HOME"] ?? NSHomeDirectory()) + "/.medrepl_history"
    }

    public init(historyPath: String?, completer: Completer) {
        self.historyPath = historyPath
        LineEditor.completer = completer
        rl_readline_name = UnsafePointer(strdup("medrepl"))
        rl_catch_signals = 0
        rl_getc_function = { _ in LineEditor.readCharacter() }
        rl_attempted_completion_function = { text, start, end in LineEditor.completionMatches(text, start, end) }
        rl_completer_word_break_characters = strdup(" \t\n\"'[],;")
        rl_initialize()
        using_history()
        stifle_history(2000)
        if let historyPath { _ = read_history(historyPath) }
    }

    /// Reads one line with the prompt.
    public func readLine(prompt: String) -> Input {
        guard let raw = readline(prompt) else {
            if Interrupts.take() {
                fputs("^C\n", stdout); fflush(stdout)
                return .interrupted
            }
            return .endOfInput
        }
        defer { free(raw) }
        return .line(String(cString: raw))
    }

    /// Adds a line to the history and saves the history file.
    public func remember(_ line: String) {
        guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { return }
        add_history(line)
        if let historyPath { _ = write_history(historyPath) }
    }

    /// One character for libedit, as a Unicode code point (libedit's readline layer stores the
    /// value as a wide character, so UTF-8 is decoded here). -1 on end of input or Ctrl-C.
    static func readCharacter() -> Int32 {
        func byte() -> UInt8? {
            var b: UInt8 = 0
            while true {
                let n = read(STDIN_FILENO, &b, 1)
                if n == 1 { return b }
                if n < 0 && errno == EINTR && !Interrupts.isPending { continue }
                return nil
            }
        }
        guard let first = byte() else { return -1 }
        let extra: Int, initial: UInt32
        switch first {
        case 0..<0x80: return Int32(first)
        case 0xC0..<0xE0: extra = 1; initial = UInt32(first & 0x1F)
        case 0xE0..<0xF0: extra = 2; initial = UInt32(first & 0x0F)
        case 0xF0..<0xF8: extra = 3; initial = UInt32(first & 0x07)
        default: return 0xFFFD
        }
        var scalar = initial
        for _ in 0..<extra {
            guard let next = byte() else { return -1 }
            scalar = scalar << 6 | UInt32(next & 0x3F)
        }
        return Int32(bitPattern: scalar)
    }

    /// libedit's completion hook: fills `candidates` from the completer and hands them back.
    static func completionMatches(_ text: UnsafePointer<CChar>?, _ start: Int32, _ end: Int32) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
        rl_attempted_completion_over = 1
        guard let completer, let buffer = rl_line_buffer, let text else { return nil }
        let line = String(cString: buffer)
        // rl_point counts bytes; complete what is left of the cursor.
        let bytes = Array(line.utf8.prefix(Int(end)))
        let upToCursor = String(decoding: bytes, as: UTF8.self)
        let result = completer.complete(line: upToCursor)
        candidates = result.candidates
        guard !candidates.isEmpty else { return nil }
        let noSpace = candidates.count == 1 && completer.continues(candidates[0])
        rl_completion_append_character = noSpace ? 0 : 32
        return rl_completion_matches(text, { _, state in
            let i = Int(state)
            guard i < LineEditor.candidates.count else { return nil }
            return strdup(LineEditor.candidates[i])
        })
    }
}

import Foundation
import Support

/// Where verbs write what the user should see. Text streams to its destination at once and is
/// also captured while a notebook cell runs, so the cell's output can be recorded and compared.
///
/// Progress bars and timing chatter go to standard error instead and are never recorded.
///
/// ```swift
/// session.output.beginCapture()
/// session.writeLine("loaded 200 rows")
/// let recorded = session.output.endCapture()   // "loaded 200 rows\n"
/// ```
public final class OutputSink: @unchecked Sendable {
    /// Receives every piece of text as it is written; nil to stay silent (tests, `--quiet`).
    public var stream: ((String) -> Void)?
    private var captures: [String] = []

    /// A sink that streams to standard output.
    public static func standardOutput() -> OutputSink {
        let sink = OutputSink()
        sink.stream = { text in
            ProgressBar.willWrite(text)   // a progress bar on the terminal gives up its line first
            fputs(text, stdout)
            fflush(stdout)
        }
        return sink
    }

    public init(stream: ((String) -> Void)? = nil) { self.stream = stream }

    public func write(_ text: String) {
        guard !text.isEmpty else { return }
        stream?(text)
        if !captures.isEmpty { captures[captures.count - 1] += text }
    }

    /// Whether the stream is a terminal that shows colour (the shell sets it; `NO_COLOR` turns it off).
    public var colour = false

    /// `styled` (with ANSI colour) to a terminal that shows colour, `plain` everywhere else: the captures, and
    /// so every recorded notebook and saved transcript, get `plain`.
    public func write(plain: String, styled: String) {
        guard !plain.isEmpty else { return }
        stream?(colour ? styled : plain)
        if !captures.isEmpty { captures[captures.count - 1] += plain }
    }

    /// Shows text without recording it in any capture (notices that a replay would not print).
    public func writeUnrecorded(_ text: String) {
        guard !text.isEmpty else { return }
        stream?(text)
    }

    /// Starts recording (captures nest: the inner one also feeds the outer one on end).
    public func beginCapture() { captures.append("") }

    /// Stops the innermost recording and returns what was written during it.
    @discardableResult
    public func endCapture() -> String {
        guard let text = captures.popLast() else { return "" }
        if !captures.isEmpty { captures[captures.count - 1] += text }
        return text
    }
}

import Foundation

/// A terminal progress bar with a rate and an ETA, drawn on standard error.
///
/// It redraws in place when standard error is a terminal, and prints a plain line at most every
/// few seconds otherwise (logs, notebooks), so recorded outputs stay short. On a terminal a bar owns
/// its line: whatever else is written there calls `willWrite` first, which erases the bar (it is drawn
/// again at its next update). A bar that starts part-way (a resumed training) counts its rate and ETA
/// from the steps of this run only.
///
/// ```swift
/// let bar = ProgressBar(total: 50, label: "train", unit: "step")
/// for step in 1...50 { work(); bar.update(step, info: "loss 2.31") }
/// bar.finish()
/// ```
public final class ProgressBar: @unchecked Sendable {
    public let total: Int
    public let label: String
    public let unit: String
    private let start = DispatchTime.now().uptimeNanoseconds
    private var lastDraw: UInt64 = 0
    private var current = 0
    private let interactive: Bool
    /// Off a terminal: the position and info of the last line written, so `finish` does not repeat it.
    private var written: (current: Int, info: String)?
    private let width = 24
    /// When false, nothing is drawn (quiet runs, tests).
    public static var enabled = true

    /// Where the bar started: progress before it (a resumed run) is not part of the rate.
    private let initial: Int

    /// Where a bar off a terminal writes its lines (standard error; a test collects them instead).
    private let log: (String) -> Void

    /// A bar on standard error; `log` replaces standard error off a terminal (tests).
    public init(total: Int, label: String, unit: String = "it", startingAt initial: Int = 0, log: ((String) -> Void)? = nil) {
        self.total = max(total, 1)
        self.label = label
        self.unit = unit
        self.initial = min(max(initial, 0), max(total, 1))
        self.current = self.initial
        self.interactive = log == nil && isatty(STDERR_FILENO) != 0
        self.log = log ?? { FileHandle.standardError.write(Data($0.utf8)) }
    }

    // MARK: sharing the terminal

    private static let terminal = NSLock()
    /// The bar whose line is on the terminal now.
    nonisolated(unsafe) private static var shown: ProgressBar?
    /// True while other output has left its line unfinished: a bar drawn now would overwrite it.
    nonisolated(unsafe) private static var lineOpen = false

    /// Call before writing `text` to the terminal the bars draw on (standard output and standard error
    /// share it): erases the bar on screen, if any, so the text starts on a line of its own.
    public static func willWrite(_ text: String) {
        guard !text.isEmpty else { return }
        terminal.lock(); defer { terminal.unlock() }
        if let bar = shown {
            FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
            bar.lastDraw = 0   // drawn again at its next update
            shown = nil
        }
        lineOpen = !text.hasSuffix("\n")
    }

    /// Seconds a bar runs before it shows a rate and an ETA (a tenth of that for its final state).
    static let settling = 0.5

    /// Seconds since the bar was created.
    public var elapsed: Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

    /// Sets the position to `done` of `total` and redraws when due. `info` is shown after the rate.
    public func update(_ done: Int, info: String = "") {
        current = done
        guard ProgressBar.enabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        let interval: UInt64 = interactive ? 100_000_000 : 10_000_000_000
        guard now - lastDraw >= interval || done >= total else { return }
        lastDraw = now
        draw(info: info, final: false)
    }

    /// Draws the final state and ends the line.
    public func finish(info: String = "") {
        guard ProgressBar.enabled else { return }
        draw(info: info, final: true)
    }

    /// A duration in words for a sentence: "40 s", "1 min 35 s", "2 h 05 min".
    public static func describeDuration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "an unknown time" }
        let s = Int(seconds.rounded())
        if s < 60 { return "\(max(s, 1)) s" }
        if s < 3600 { return "\(s / 60) min \(s % 60) s" }
        return String(format: "%d h %02d min", s / 3600, s / 60 % 60)
    }

    public static func formatDuration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--:--" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%02d:%02d", s / 60, s % 60)
    }

    private func draw(info: String, final: Bool) {
        let fraction = min(Double(current) / Double(total), 1)
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let t = elapsed
        let done = current - initial
        // Over less than `settling` seconds a rate is noise, not a measurement (an export's first chunk, already
        // written when its bar appeared, once read 1922707.17 MB/s): "?" until then, as tqdm does, and no ETA.
        let measured = t >= (final ? Self.settling / 10 : Self.settling)
        let rate = measured && done > 0 ? Double(done) / t : 0
        let eta = current >= total ? 0 : rate > 0 ? Double(total - current) / rate : .infinity
        let rateText = !measured ? "? \(unit)/s"
            : rate >= 1 || rate == 0 ? String(format: "%.2f %@/s", rate, unit) : String(format: "%.2f s/%@", 1 / rate, unit)
        var line = "\(label) \(bar) \(current)/\(total) [\(Self.formatDuration(t))<\(Self.formatDuration(eta)), \(rateText)]"
        if !info.isEmpty { line += " " + info }
        guard interactive else {
            // a log gets a line per update; the final state once, even when the last update already reached it
            if final, let w = written, w.current == current, w.info == info || info.isEmpty { return }
            written = (current, info)
            log(line + "\n")
            return
        }
        Self.terminal.lock(); defer { Self.terminal.unlock() }
        if Self.lineOpen {
            guard final else { return }   // a reply is streaming on this line: wait for it to end
            FileHandle.standardError.write(Data("\n".utf8))
            Self.lineOpen = false
        }
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + line + (final ? "\n" : "")).utf8))
        Self.shown = final ? nil : self
    }
}

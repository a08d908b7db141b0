import Foundation
import Support
import Testing

/// Off a terminal (a log, CI) a bar writes one line per update and its final state once.
@Suite struct ProgressBarTests {
    final class Lines { var all: [String] = [] }

    @Test func theFinalStateIsWrittenOnce() {
        let lines = Lines()
        let bar = ProgressBar(total: 3, label: "eval", unit: "ex", log: { lines.all.append($0) })
        bar.update(3, info: "acc 1/3")      // the last update reaches the total: written
        bar.finish(info: "acc 1/3")         // the same state: not written again
        #expect(lines.all.count == 1, "\(lines.all)")
        #expect(lines.all.first?.hasPrefix("eval ████████████████████████ 3/3 [") == true)
        #expect(lines.all.first?.hasSuffix("acc 1/3\n") == true)
        bar.finish(info: "done")            // new information: written
        #expect(lines.all.count == 2 && lines.all[1].hasSuffix("done\n"))
    }

    @Test func aFinishAfterProgressNotYetWrittenIsWritten() {
        let lines = Lines()
        let bar = ProgressBar(total: 4, label: "train", unit: "step", log: { lines.all.append($0) })
        bar.update(1)                       // the first update is due at once
        bar.update(2)                       // off a terminal the next is due 10 s later
        bar.finish()                        // a stopped run: its last position is written
        #expect(lines.all.count == 2, "\(lines.all)")
        #expect(lines.all[0].contains(" 1/4 ") && lines.all[1].contains(" 2/4 "))
    }

    /// A bar that has run for less than half a second shows no rate and no ETA: a first update that came
    /// right after its bar was made (an export's first chunk) read 1922707.17 MB/s. Later lines have both.
    @Test func noRateBeforeTheBarHasRunAWhile() {
        let lines = Lines()
        let bar = ProgressBar(total: 143, label: "export", unit: "MB", log: { lines.all.append($0) })
        bar.update(30)
        usleep(600_000)
        bar.finish(info: "written")
        #expect(lines.all.count == 2, "\(lines.all)")
        guard lines.all.count == 2 else { return }
        #expect(lines.all[0].hasSuffix(" 30/143 [00:00<--:--, ? MB/s]\n"), "\(lines.all[0])")
        #expect(lines.all[1].contains(" 30/143 [00:01<") && lines.all[1].hasSuffix(" MB/s] written\n") && !lines.all[1].contains("?"), "\(lines.all[1])")
    }
}

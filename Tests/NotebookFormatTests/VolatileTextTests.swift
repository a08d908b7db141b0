import Foundation
import NotebookFormat
import Testing

/// What `save` records of volatile figures (issue 14): times, rates and temporary paths as patterns, so
/// that the saved notebook replays with `run --check`.
@Suite struct VolatileTextTests {
    @Test func timesRatesAndTemporaryPathsAreRecordedAsPatterns() {
        let cases: [(String, String)] = [
            ("loaded smollm2 (a.gguf): 30 layers in 1.3 s", #"loaded smollm2 \(a\.gguf\): 30 layers in [\d.,]+ s (re)"#),
            ("{'train_runtime': 2.4300, 'train_samples_per_second': 1.735, 'train_loss': 3.0193, 'epoch': 0.5}",
             #"\{'train_runtime': [\d.,]+, 'train_samples_per_second': [\d.,]+, 'train_loss': 3\.0193, 'epoch': 0\.5\} (re)"#),
            ("Total time: 12.3s", #"Total time: [\d.,]+s (re)"#),
            ("time: 2.4s, 0.12 s/example", #"time: [\d.,]+s, [\d.,]+ s/example (re)"#),
            ("decode 52.4 tok/s, sgemm 139.5 GFLOPS", #"decode [\d.,]+ tok/s, sgemm [\d.,]+ GFLOPS (re)"#),
            ("saved to /tmp/medrepl-x1/adapter", #"saved to /tmp/[^\s'"),]* (re)"#),
            // confidences follow the kernel level's last bits; the accuracies beside them stay literal
            ("   50% answered (43 of 86): 23.3% correct (95% CI 13.2%–37.7%), confidence ≥ 8.4e-21",
             #"   50% answered \(43 of 86\): 23\.3% correct \(95% CI 13\.2%–37\.7%\), confidence ≥ [\d.,e+-]+ (re)"#),
            ("(confidence: mean token probability 0.637, lowest 0.083, whole answer 3.2e-22)",
             #"\(confidence: mean token probability [\d.,e+-]+, lowest [\d.,e+-]+, whole answer [\d.,e+-]+\) (re)"#),
        ]
        for (line, recorded) in cases {
            #expect(VolatileText.record(line) == recorded)
            #expect(OutputMatch.lineMatches(VolatileText.record(line), line), "its own line: \(line)")
        }
        // Reproducible figures stay literal: losses, counts, sizes, steps.
        for line in ["   4 | 3.022376", "trainable params: 2,442,240 || trainable%: 1.7832", "f32 weights (538 MB)",
                     "16 rows, 8 optimizer steps per epoch, 8 steps in all", "stopped at step 4 of 8"] {
            #expect(VolatileText.record(line) == line)
        }
        // A printed line that would read as a pattern is recorded so that it matches only itself.
        for line in ["...", "a (re)", "b* (glob)"] {
            let recorded = VolatileText.record(line)
            #expect(recorded != line && OutputMatch.lineMatches(recorded, line))
            #expect(!OutputMatch.lineMatches(recorded, "x"))
        }
    }

    @Test func updateKeepsPatternsThatStillMatchAndNeverWritesALiteralTime() {
        let recorded = [#"loaded in \d+\.\d+ s (re)"#, "loss 3.1", "steps 4"]
        #expect(VolatileText.update(recorded: recorded, actual: ["loaded in 9.9 s", "loss 3.1", "steps 4"]) == recorded)
        // One line changed: the others keep their recorded form, the new one is recorded afresh.
        #expect(VolatileText.update(recorded: recorded, actual: ["loaded in 9.9 s", "loss 2.7", "took 0.4 s", "steps 4"])
                == [#"loaded in \d+\.\d+ s (re)"#, "loss 2.7", #"took [\d.,]+ s (re)"#, "steps 4"])
    }
}

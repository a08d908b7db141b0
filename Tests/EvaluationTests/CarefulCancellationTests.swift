import Datasets
import Evaluation
import Llama
import Testing

/// Careful evaluation stops within one decode step of a Ctrl-C, not at the end of its batch.
@Suite struct CarefulCancellationTests {
    /// A generator that takes `max_new_tokens` steps per batch and counts them.
    final class SteppingGenerator: AnswerGenerator {
        var steps = 0
        func generate(prompt: String, config: GenerationConfig) throws -> String { "a" }
        func generate(prompts: [String], config: GenerationConfig, onStep: (Int) throws -> Void) throws -> [String] {
            for t in 1...config.max_new_tokens { steps += 1; try onStep(t) }
            return prompts.map { _ in "a" }
        }
    }

    @Test func ctrlCStopsWithinOneDecodeStep() throws {
        let test = QADataset(rows: (0..<8).map { QARow(question: "q\($0)", answer: "a") })
        var polls = 0
        let flag = CancellationFlag(poll: { polls += 1; return polls >= 3 })   // Ctrl-C during the first batch
        let careful = CarefulEvaluation(settings: .greedy(max_new_tokens: 50), batchSize: 8, showProgress: false)
        let generator = SteppingGenerator()
        let run = try careful.run(test: test, generator: generator, cancellation: flag)
        #expect(run.stopReason == .cancelled)
        #expect(generator.steps <= 3, "ran \(generator.steps) of 50 steps after Ctrl-C")
        #expect(run.examples.isEmpty)
    }
}

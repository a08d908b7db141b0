import Evaluation
import Foundation
import Language
import Support

// What long evaluations show while they run: how long they should take, and each answer scored.

/// Before a long evaluation: once the first batch of answers is in, how long all of them should take (shown on
/// the terminal, not recorded: it varies from run to run). Said once, and only for 20 questions or more.
final class EvaluationEstimate {
    let total: Int
    let session: Session
    private let start = DispatchTime.now().uptimeNanoseconds
    private var done = 0, said = false

    init(total: Int, session: Session) { self.total = total; self.session = session }

    func add(_ answers: Int) {
        done += answers
        guard !said, total >= 20, done > 0, done < total else { return }
        said = true
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        session.output.writeUnrecorded("\(total) questions to answer: about \(ProgressBar.describeDuration(elapsed / Double(done) * Double(total))) in all "
            + "(the first \(done) took \(String(format: "%.1f", elapsed)) s)\n")
    }
}

/// A scorer that reports each answer scored and can put text before each answer (the notebook's
/// prompt ends with "The answer is:", and its answers follow after a space).
struct ProgressScorer: AnswerScorer {
    let base: ModelAnswerGenerator
    let answerPrefix: String
    let onAnswer: () -> Void

    func answerLoss(prompt: String, answer: String) throws -> (loss: Double, tokens: Int) {
        let result = try base.answerLoss(prompt: prompt, answer: answerPrefix + answer)
        onAnswer()
        return result
    }
}

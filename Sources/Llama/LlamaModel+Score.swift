import Foundation
import Kernels

// Scoring: how well the model predicts a text, as a mean token loss (nats) and its perplexity.

/// Mean negative log-likelihood over the tokens scored, and `exp` of it.
public struct Score: Sendable, Equatable, CustomStringConvertible {
    /// Mean −log p(token | tokens before it), in nats.
    public var meanLoss: Float
    /// exp(meanLoss).
    public var perplexity: Float { expf(meanLoss) }
    /// How many tokens were scored.
    public var tokenCount: Int

    public var description: String {
        String(format: "loss %.4f, perplexity %.3f over %d tokens", meanLoss, perplexity, tokenCount)
    }
}

extension LlamaModel {
    /// Scores a whole sequence: every token after the first, predicted from those before it.
    ///
    /// ```swift
    /// let s = try model.score(tokens: ids)
    /// print(s.perplexity)
    /// ```
    public func score(tokens: [Int]) throws -> Score {
        guard tokens.count >= 2 else {
            throw LlamaError.invalidInput("score: need at least 2 tokens, got \(tokens.count)")
        }
        let loss = try self.loss(inputIds: [tokens], labels: [tokens])
        return Score(meanLoss: loss, tokenCount: tokens.count - 1)
    }

    /// Scores an answer given a prompt: only the answer's tokens count (the prompt's labels are
    /// −100), the first of them predicted from the prompt's last token.
    ///
    /// ```swift
    /// let s = try model.score(prompt: questionIds, answer: answerIds)
    /// ```
    public func score(prompt: [Int], answer: [Int]) throws -> Score {
        guard !prompt.isEmpty, !answer.isEmpty else {
            throw LlamaError.invalidInput("score: prompt and answer must both have tokens (got \(prompt.count) and \(answer.count))")
        }
        let labels = [Int](repeating: Int(ignoreIndex), count: prompt.count) + answer
        let loss = try self.loss(inputIds: [prompt + answer], labels: [labels])
        return Score(meanLoss: loss, tokenCount: answer.count)
    }
}

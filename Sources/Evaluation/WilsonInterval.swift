// The Wilson score interval: the confidence interval to print beside every accuracy. With 20
// questions, "40%" means anything from about 22% to 61%.
import Foundation

/// The Wilson score interval for a binomial proportion (`successes` of `n`).
///
/// ```swift
/// let ci = WilsonInterval(successes: 8, n: 20)
/// // ci.lower ≈ 0.2188, ci.upper ≈ 0.6134
/// print(ci)   // "40.0% (95% CI 21.9%–61.3%, n = 20)"
/// ```
public struct WilsonInterval: Equatable, Sendable, CustomStringConvertible {
    /// Correct answers.
    public let successes: Int
    /// Questions asked.
    public let n: Int
    /// The two-sided normal quantile (1.959964 for 95%).
    public let z: Double
    /// The observed proportion successes / n (0 when n = 0).
    public let proportion: Double
    /// Lower bound of the interval, in [0, 1].
    public let lower: Double
    /// Upper bound of the interval, in [0, 1].
    public let upper: Double

    /// The quantile of the standard normal at 0.975.
    public static let z95 = 1.959963984540054

    public init(successes: Int, n: Int, z: Double = WilsonInterval.z95) {
        self.successes = successes
        self.n = n
        self.z = z
        guard n > 0, successes >= 0, successes <= n else {
            // No data: the interval is the whole unit range.
            proportion = n > 0 ? Double(max(0, min(successes, n))) / Double(n) : 0
            lower = 0
            upper = 1
            return
        }
        let nn = Double(n), p = Double(successes) / nn, z2 = z * z
        let denominator = 1 + z2 / nn
        let centre = (p + z2 / (2 * nn)) / denominator
        let halfWidth = z / denominator * (p * (1 - p) / nn + z2 / (4 * nn * nn)).squareRoot()
        proportion = p
        // At 0 and n the formula gives exactly 0 and 1 up to rounding; pin them.
        lower = successes == 0 ? 0 : max(0, centre - halfWidth)
        upper = successes == n ? 1 : min(1, centre + halfWidth)
    }

    /// "40.0% (95% CI 21.9%–61.3%, n = 20)".
    public var description: String {
        String(format: "%.1f%% (95%% CI %.1f%%–%.1f%%, n = %d)", proportion * 100, lower * 100, upper * 100, n)
    }
}

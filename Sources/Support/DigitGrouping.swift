/// A whole number with its digits grouped in threes by commas, as peft and transformers print counts
/// (`trainable params: 1,126,400`), whatever the locale.
///
/// ```swift
/// formatCount(1_100_048_384)   // "1,100,048,384"
/// formatCount(-4096)           // "-4,096"
/// ```
public func formatCount(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (i, ch) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(ch)
    }
    return n < 0 ? "-" + out : out
}

// The notebook's dataset steps: select a range, shuffle, split, map to training text, filter.
import Foundation

/// What ``QADataset/mapWithReport(template:)`` kept and why it skipped the rest.
public struct MapReport: Equatable, Sendable, CustomStringConvertible {
    /// Rows formatted.
    public var kept: Int
    /// Skipped rows: their ``QARow/sourceRow`` and the rule that dropped them.
    public var skipped: [(sourceRow: Int, reason: String)]

    public static func == (a: MapReport, b: MapReport) -> Bool {
        a.kept == b.kept && a.skipped.map(\.sourceRow) == b.skipped.map(\.sourceRow) && a.skipped.map(\.reason) == b.skipped.map(\.reason)
    }

    /// "formatted 198 rows, skipped 2 (1 question shorter than 10 characters, 1 answer shorter than 2 characters)".
    public var description: String {
        var s = "formatted \(kept) row\(kept == 1 ? "" : "s"), skipped \(skipped.count)"
        if !skipped.isEmpty {
            var counts: [String: Int] = [:]
            for (_, r) in skipped { counts[r, default: 0] += 1 }
            s += " (" + counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ") + ")"
        }
        return s
    }
}

extension QADataset {
    /// The rows in `range` (0-based, end exclusive), like `dataset.select(range(200))`.
    ///
    /// ```swift
    /// let train = try data.select(0..<200)
    /// ```
    public func select(_ range: Range<Int>) throws -> QADataset {
        guard range.lowerBound >= 0, range.upperBound <= count else {
            throw DatasetError.outOfRange("select(\(range.lowerBound)..<\(range.upperBound)) is outside \(name), which has \(count) rows")
        }
        return with(rows: Array(rows[range]))
    }

    /// The rows at `indices`, in that order (repeats allowed).
    public func select(indices: [Int]) throws -> QADataset {
        if let bad = indices.first(where: { !rows.indices.contains($0) }) {
            throw DatasetError.outOfRange("index \(bad) is outside \(name), which has \(count) rows")
        }
        return with(rows: indices.map { rows[$0] })
    }

    /// The rows in an order drawn by Python's `random.Random(seed).shuffle(list(range(n)))`.
    ///
    /// (Hugging Face's `Dataset.shuffle` draws from NumPy instead; medrepl's order is Python's.)
    ///
    /// ```swift
    /// let mixed = data.shuffle(seed: 42)
    /// ```
    public func shuffle(seed: Int) -> QADataset {
        var order = Array(rows.indices)
        var rng = PythonRandom(seed: seed)
        rng.shuffle(&order)
        return with(rows: order.map { rows[$0] })
    }

    /// Splits at `index`: rows before it (`train`) and rows from it on (`test`), the notebook's
    /// "rows after the training range".
    ///
    /// ```swift
    /// let (train, test) = try data.split(at: 200)
    /// ```
    public func split(at index: Int) throws -> (train: QADataset, test: QADataset) {
        guard index >= 0, index <= count else {
            throw DatasetError.outOfRange("split(at: \(index)) is outside \(name), which has \(count) rows")
        }
        return (with(rows: Array(rows[..<index])), with(rows: Array(rows[index...])))
    }

    /// A random split like `train_test_split(test_size:)`: `ceil(testFraction * n)` test rows,
    /// the rest train, from a permutation drawn with Python's `random` seeded by `seed`.
    ///
    /// ```swift
    /// let (train, test) = try data.split(testFraction: 0.2, seed: 42)
    /// ```
    public func split(testFraction: Double, seed: Int) throws -> (train: QADataset, test: QADataset) {
        guard testFraction > 0, testFraction < 1 else {
            throw DatasetError.invalidArgument("testFraction must be between 0 and 1 (exclusive), got \(testFraction)")
        }
        let nTest = Int((testFraction * Double(count)).rounded(.up))
        let nTrain = count - nTest
        guard nTest > 0, nTrain > 0 else {
            throw DatasetError.invalidArgument("splitting \(count) rows with testFraction \(testFraction) leaves \(nTrain) train and \(nTest) test rows")
        }
        var order = Array(rows.indices)
        var rng = PythonRandom(seed: seed)
        rng.shuffle(&order)
        return (with(rows: order[..<nTrain].map { rows[$0] }), with(rows: order[nTrain...].map { rows[$0] }))
    }

    /// Formats every row's `text` with `template`, dropping rows its rules reject.
    ///
    /// ```swift
    /// let train = try data.select(0..<200).map(template: .notebookLlama3)
    /// print(train[0].text!)
    /// ```
    public func map(template: PromptTemplate) -> QADataset {
        mapWithReport(template: template).dataset
    }

    /// ``map(template:)`` with the count of rows kept and skipped.
    public func mapWithReport(template: PromptTemplate) -> (dataset: QADataset, report: MapReport) {
        var kept: [QARow] = []
        var report = MapReport(kept: 0, skipped: [])
        for var row in rows {
            if let reason = template.skipReason(question: row.question, answer: row.answer) {
                report.skipped.append((row.sourceRow, reason))
                continue
            }
            row.text = template.render(question: row.question, answer: row.answer)
            kept.append(row)
        }
        report.kept = kept.count
        return (with(rows: kept), report)
    }

    /// Formats every row's `text` with a closure (e.g. a tokenizer's chat template); returning nil
    /// drops the row.
    public func map(_ format: (QARow) throws -> String?) rethrows -> QADataset {
        var kept: [QARow] = []
        for var row in rows {
            guard let text = try format(row) else { continue }
            row.text = text
            kept.append(row)
        }
        return with(rows: kept)
    }

    /// Keeps rows whose question and answer are at least the given lengths (Unicode scalars) and,
    /// when `contains` is given, whose question or answer contains it (case-insensitive).
    ///
    /// ```swift
    /// let cardiac = data.filter(minQuestionLength: 10, contains: "heart")
    /// ```
    public func filter(minQuestionLength: Int = 0, minAnswerLength: Int = 0, contains: String? = nil) -> QADataset {
        let needle = contains?.lowercased()
        return filter { row in
            row.question.unicodeScalars.count >= minQuestionLength
                && row.answer.unicodeScalars.count >= minAnswerLength
                && (needle.map { row.question.lowercased().contains($0) || row.answer.lowercased().contains($0) } ?? true)
        }
    }

    /// Keeps rows for which `isIncluded` is true.
    public func filter(_ isIncluded: (QARow) throws -> Bool) rethrows -> QADataset {
        with(rows: try rows.filter(isIncluded))
    }

    /// The same dataset description with other rows.
    private func with(rows: [QARow]) -> QADataset {
        var copy = self
        copy.rows = rows
        return copy
    }
}

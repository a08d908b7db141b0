import Foundation

// A formatting template written out as data, so that another program fills it exactly as medrepl does.

/// A template as literal text and the fields `question` and `answer`, in order: what `export_training` writes into
/// run_config.json for train.py, whatever made the template (the notebook's Llama-3 text, a chat family, the
/// model's own chat template, a user's "Q: {question}\nA: {answer}").
///
/// ```swift
/// let t = TemplateText { q, a in ChatTemplate.named("chatml")!.text(question: q, answer: a) }!
/// t.fill(question: "Which vitamin prevents scurvy?", answer: "Vitamin C")   // the same text as the template's
/// t.json   // [["text": "<|im_start|>user\n"], ["field": "question"], ["text": "<|im_end|>\n<|im_start|>assistant\n"], ...]
/// ```
struct TemplateText: Equatable {
    enum Part: Equatable { case text(String), field(String) }
    var parts: [Part]
    /// The template trims the question and the answer (Jinja's `| trim` in Llama-3's template): fill trims them too.
    var strip: Bool

    /// Two private-use characters no question or template contains: rendering them shows where the fields go.
    private static let markers: [(Unicode.Scalar, String)] = [("\u{E000}", "question"), ("\u{E001}", "answer")]

    /// The parts `render` writes around a question and an answer, and whether it trims them (the markers given with
    /// spaces around them come out without); nil when the markers come out changed (a template that rewrites its
    /// fields rather than placing them).
    init?(_ render: (String, String) -> String) {
        let text = render(String(Self.markers[0].0), String(Self.markers[1].0))
        strip = render(" \(Self.markers[0].0)\n", " \(Self.markers[1].0)\n") == text
        var parts: [Part] = [], literal = String.UnicodeScalarView()
        for u in text.unicodeScalars {
            if let marker = Self.markers.first(where: { $0.0 == u }) {
                if !literal.isEmpty { parts.append(.text(String(literal))); literal = String.UnicodeScalarView() }
                parts.append(.field(marker.1))
            } else {
                literal.append(u)
            }
        }
        if !literal.isEmpty { parts.append(.text(String(literal))) }
        guard parts.contains(.field("question")) else { return nil }
        self.parts = parts
    }

    /// The template filled with one row, as train.py's `render` fills it.
    func fill(question: String, answer: String) -> String {
        let q = strip ? question.trimmingCharacters(in: .whitespacesAndNewlines) : question
        let a = strip ? answer.trimmingCharacters(in: .whitespacesAndNewlines) : answer
        return parts.map { part -> String in
            switch part {
            case .text(let t): return t
            case .field(let f): return f == "question" ? q : a
            }
        }.joined()
    }

    /// As run_config.json holds it: `{"text": ...}` and `{"field": ...}` objects in order.
    var json: [Any?] {
        parts.map { part -> Any? in
            switch part {
            case .text(let t): return ["text": t] as [String: Any?]
            case .field(let f): return ["field": f] as [String: Any?]
            }
        }
    }
}

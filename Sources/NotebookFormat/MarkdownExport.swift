import Foundation

/// A notebook as Markdown that reads well on a code-hosting site: prose as written, commands in
/// `medrepl` code blocks, and recorded output in `text` blocks under them; an SVG chart a cell wrote
/// (an output line `wrote PATH.svg...`, as `loss_curve` prints) is shown as an image under its cell.
///
/// ```swift
/// let markdown = MarkdownExport.render(nb, title: "finetune.mednb")
/// let beside = MarkdownExport.render(nb, title: "finetune.mednb") { svg in "../" + svg }   // links relative to the .md
/// ```
public enum MarkdownExport {
    public static func render(_ document: NotebookDocument, title: String, link: (String) -> String = { $0 }) -> String {
        var parts: [String] = []
        var provenance = ["medrepl \(document[header: "medrepl"] ?? "?")"]
        if let model = document[header: "model"] { provenance.append("model \(model)") }
        if let seed = document[header: "seed"] { provenance.append("seed \(seed)") }
        if let params = document[header: "params"] { provenance.append("parameters \(params)") }
        parts.append("<!-- \(title), exported by medrepl \(MedreplVersion.string); edit the .mednb, not this file -->\n\n"
                      + "> Recorded with " + provenance.joined(separator: ", ") + ".")
        for cell in document.cells {
            switch cell.kind {
            case .prose:
                if !cell.text.isEmpty { parts.append(cell.text) }
            case .command:
                var block = ""
                var notes: [String] = []
                if cell.tags.contains("skip") { notes.append("not run") }
                if cell.tags.contains("raises") { notes.append("expected to fail") }
                if cell.tags.contains("parameters") { notes.append("parameters: override with `-p name=value`") }
                if !notes.isEmpty { block += "*Cell `\(cell.id)`: " + notes.joined(separator: "; ") + ".*\n\n" }
                let commands = cell.entries.map(\.command).joined(separator: "\n")
                block += fenced(commands, info: "medrepl")
                let output = cell.entries.flatMap(\.output)
                if !output.isEmpty { block += "\n\n" + fenced(output.map(OutputMatch.readable).joined(separator: "\n"), info: "text") }
                for chart in output.compactMap(writtenChart) {
                    block += "\n\n![\((chart as NSString).lastPathComponent)](\(link(chart)))"
                }
                parts.append(block)
            }
        }
        return parts.joined(separator: "\n\n") + "\n"
    }

    /// The SVG file an output line says was written (`wrote outputs/run/loss_curve.svg: ...`), or nil.
    static func writtenChart(_ line: String) -> String? {
        guard line.hasPrefix("wrote ") else { return nil }
        let rest = line.dropFirst(6)
        let path = rest.prefix { $0 != " " && $0 != ":" }
        return path.lowercased().hasSuffix(".svg") ? String(path) : nil
    }

    /// A fenced code block whose fence is longer than any run of backticks inside.
    static func fenced(_ text: String, info: String) -> String {
        var longest = 0, run = 0
        for ch in text {
            if ch == "`" { run += 1; longest = max(longest, run) } else { run = 0 }
        }
        let fence = String(repeating: "`", count: max(3, longest + 1))
        return fence + info + "\n" + text + "\n" + fence
    }
}

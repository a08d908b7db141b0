import Foundation

/// A notebook as one plain HTML page that any browser opens with nothing beside it: the prose rendered (headings,
/// paragraphs, lists, pipe tables, `code`, **bold**, *emphasis*, links), each command with its recorded output, and
/// the SVG charts cells wrote drawn inline under their cell. No script, no style sheet from elsewhere.
///
/// ```swift
/// let html = HTMLExport.render(nb, title: "finetune.mednb") { path in try? String(contentsOfFile: path, encoding: .utf8) }
/// ```
public enum HTMLExport {
    /// `chart` returns the SVG text of a chart a cell wrote (its path as the output line names it), or nil when the
    /// file is gone (the page then says so where the chart would be).
    public static func render(_ document: NotebookDocument, title: String, chart: (String) -> String? = { _ in nil }) -> String {
        var body: [String] = []
        var provenance = ["medrepl \(document[header: "medrepl"] ?? "?")"]
        if let model = document[header: "model"] { provenance.append("model \(model)") }
        if let seed = document[header: "seed"] { provenance.append("seed \(seed)") }
        if let params = document[header: "params"] { provenance.append("parameters \(params)") }
        body.append("<p class=\"provenance\">Recorded with \(escape(provenance.joined(separator: ", "))).</p>")
        for cell in document.cells {
            switch cell.kind {
            case .prose:
                body.append(markdown(cell.text))
            case .command:
                var block = "<section class=\"cell\" id=\"\(escape(cell.id))\">"
                if !cell.bracket.isEmpty { block += "<p class=\"tags\">\(escape(String(cell.bracket.dropFirst(2).dropLast())))</p>" }
                var commands: [String] = []   // commands without output run together in one block
                for (i, entry) in cell.entries.enumerated() {
                    commands.append("$ " + escape(entry.command))
                    guard !entry.output.isEmpty || i == cell.entries.count - 1 else { continue }
                    block += "<pre class=\"command\">\(commands.joined(separator: "\n"))</pre>"
                    commands = []
                    if !entry.output.isEmpty { block += "<pre class=\"output\">\(escape(entry.output.map(OutputMatch.readable).joined(separator: "\n")))</pre>" }
                    for path in entry.output.compactMap(MarkdownExport.writtenChart) {
                        if let svg = chart(path) {
                            block += "<figure>\(inlineSVG(svg))<figcaption>\(escape(path))</figcaption></figure>"
                        } else {
                            block += "<p class=\"missing\">(the chart \(escape(path)) is not there any more: run the notebook again to draw it)</p>"
                        }
                    }
                }
                body.append(block + "</section>")
            }
        }
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="generator" content="medrepl \(MedreplVersion.string)">
            <title>\(escape(title))</title>
            <style>
            body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; color: #222; }
            pre { padding: 0.5rem 0.75rem; overflow-x: auto; margin: 0.25rem 0; }
            pre.command { background: #eef3fb; border-left: 3px solid #1f77b4; }
            pre.output { background: #f6f6f6; border-left: 3px solid #bbb; }
            code { background: #f0f0f0; padding: 0 0.2rem; }
            table { border-collapse: collapse; margin: 0.5rem 0; }
            th, td { border: 1px solid #ccc; padding: 0.2rem 0.5rem; text-align: left; }
            .provenance, .tags, figcaption { color: #666; font-size: 0.9rem; }
            .missing { color: #a33; }
            figure { margin: 0.5rem 0; } figure svg { max-width: 100%; height: auto; }
            </style>
            </head>
            <body>
            <!-- \(escape(title)), exported by medrepl \(MedreplVersion.string); edit the .mednb, not this file -->
            \(body.joined(separator: "\n"))
            </body>
            </html>

            """
    }

    /// An SVG document without its XML declaration, to sit inside the page.
    static func inlineSVG(_ svg: String) -> String {
        guard svg.hasPrefix("<?xml"), let end = svg.range(of: "?>") else { return svg }
        return String(svg[end.upperBound...]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(ch)
            }
        }
        return out
    }

    // MARK: - prose

    /// The Markdown the notebooks' prose uses: `#` headings, paragraphs, `-` lists, pipe tables, and inline code,
    /// bold, emphasis and links.
    static func markdown(_ text: String) -> String {
        var html: [String] = [], paragraph: [String] = [], list: [String] = [], table: [[String]] = []
        func flush() {
            if !paragraph.isEmpty { html.append("<p>" + inline(paragraph.joined(separator: " ")) + "</p>"); paragraph = [] }
            if !list.isEmpty { html.append("<ul>" + list.map { "<li>" + inline($0) + "</li>" }.joined() + "</ul>"); list = [] }
            if !table.isEmpty {
                let rows = table.filter { row in !row.allSatisfy { $0.allSatisfy { "-: ".contains($0) } } }   // drop the |---| rule
                var t = "<table>"
                for (i, row) in rows.enumerated() {
                    let tag = i == 0 ? "th" : "td"
                    t += "<tr>" + row.map { "<\(tag)>" + inline($0) + "</\(tag)>" }.joined() + "</tr>"
                }
                html.append(t + "</table>"); table = []
            }
        }
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { flush(); continue }
            if let level = headingLevel(trimmed) {
                flush()
                html.append("<h\(level)>" + inline(String(trimmed.dropFirst(level + 1))) + "</h\(level)>")
            } else if trimmed.hasPrefix("|") {
                if !paragraph.isEmpty || !list.isEmpty { flush() }
                table.append(trimmed.trimmingCharacters(in: CharacterSet(charactersIn: "|")).components(separatedBy: "|")
                    .map { $0.trimmingCharacters(in: .whitespaces) })
            } else if trimmed.hasPrefix("- ") {
                if !paragraph.isEmpty || !table.isEmpty { flush() }
                list.append(String(trimmed.dropFirst(2)))
            } else if !list.isEmpty && line.hasPrefix("  ") {
                list[list.count - 1] += " " + trimmed   // a list item's continuation line
            } else {
                if !list.isEmpty || !table.isEmpty { flush() }
                paragraph.append(trimmed)
            }
        }
        flush()
        return html.joined(separator: "\n")
    }

    static func headingLevel(_ line: String) -> Int? {
        let hashes = line.prefix { $0 == "#" }.count
        return (1...6).contains(hashes) && line.dropFirst(hashes).hasPrefix(" ") ? hashes : nil
    }

    /// Inline Markdown on escaped text: `code` first (its content kept literal), then **bold**, *emphasis*, [text](url).
    static func inline(_ text: String) -> String {
        let parts = text.components(separatedBy: "`")
        var out = ""
        for (i, part) in parts.enumerated() {
            if i % 2 == 1 && i < parts.count - 1 { out += "<code>" + escape(part) + "</code>"; continue }
            var s = escape(i % 2 == 1 ? "`" + part : part)
            s = s.replacingOccurrences(of: #"\*\*([^*]+)\*\*"#, with: "<strong>$1</strong>", options: .regularExpression)
            s = s.replacingOccurrences(of: #"(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])"#, with: "<em>$1</em>", options: .regularExpression)
            s = s.replacingOccurrences(of: #"\[([^\]]+)\]\(([^)\s]+)\)"#, with: "<a href=\"$2\">$1</a>", options: .regularExpression)
            out += s
        }
        return out
    }
}

/// `help`, `help VERB` and docs/language.md, all written from the registry.
public enum Help {
    /// The verb list, grouped, one line per verb.
    public static func overview(_ registry: Registry) -> String {
        let width = registry.verbs.map(\.name.count).max() ?? 0
        var lines: [String] = []
        for group in registry.groups where !group.verbs.isEmpty {
            lines.append(group.title + ":")
            for verb in group.verbs where registry.verb(named: verb.name) != nil {
                lines.append("  " + verb.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + verb.summary)
            }
        }
        lines.append("")
        lines.append("'help VERB' explains a verb. A statement is 'verb args key=value', 'name = verb ...' or 'name = value'.")
        return lines.joined(separator: "\n")
    }

    /// Usage, summary, details, parameters and examples of one verb, as plain text.
    public static func verb(_ verb: Verb, in registry: Registry) -> String {
        var lines = ["usage: " + verb.usage, "", verb.summary]
        if !verb.details.isEmpty { lines += ["", verb.details] }
        let parameters = verb.allParameters
        if !parameters.isEmpty {
            lines += ["", "arguments:"]
            let labels = parameters.map { p in verb.keywords.contains { $0.name == p.name } ? p.name + "=" : p.name.uppercased() }
            let width = labels.map(\.count).max() ?? 0
            for (p, label) in zip(parameters, labels) {
                lines.append("  \(label.padding(toLength: width, withPad: " ", startingAt: 0))  \(p.type.label)\(defaultText(p))  \(registry.help(of: p))")
            }
        }
        if !verb.examples.isEmpty {
            lines += ["", "examples:"] + verb.examples.map { "  " + $0 }
        }
        return lines.joined(separator: "\n")
    }

    static func defaultText(_ p: Parameter) -> String {
        if let d = p.defaultValue { return " (default \(d.display))" }
        return p.required ? "" : " (optional)"
    }

    /// docs/language.md: the language, then every verb. A test keeps the committed file equal to this.
    public static func languageReference(_ registry: Registry) -> String {
        var out = """
        # The medrepl command language

        <!-- Generated from the verb registry by `medrepl docs`; do not edit by hand. -->

        medrepl runs commands typed at its prompt, given with `-c`, piped on standard input, or stored in
        files and `.mednb` notebooks (see [mednb.md](mednb.md)). The language is small on purpose.

        ## Statements

        ```medrepl
        verb positional... key=value...      # call a verb
        name = verb positional... key=value  # call a verb and keep its result under a name
        name = value                         # give a name a value (`let name = value` also works)
        name.field.field                     # show a value or a field of a live object
        ```

        One statement per line; `;` separates statements on one line. A statement continues on the next
        line after a trailing `\\`, inside `[...]`, and inside a `\"\"\"` string. `#` starts a comment.

        A statement that is not assigned shows its result (`rows` shows `200`). A file, `-c` text or
        piped input is parsed whole before anything runs, so a misspelt verb on its last line stops it
        before its first line starts a long job; names are looked up when a statement runs.

        ## Values

        | Written as | Type | Notes |
        |---|---|---|
        | `42`, `-1`, `1_000` | int | |
        | `2e-4`, `0.5`, `.5` | float | ints are accepted where floats are expected |
        | `true`, `false` | bool | |
        | `none` | none | no value |
        | `"text\\n"` | string | escapes `\\n \\t \\r \\\\ \\" \\$ \\u{...}`; `${NAME}` and `${NAME:-default}` expand from the environment |
        | `\"\"\"` ... `\"\"\"` | string | over several lines; the closing quotes' indentation is removed from every line |
        | `'^\\d+$'` | string | taken as written: no escapes, no expansion (regular expressions) |
        | `[1, "a", x]` | list | items of any type, over several lines if needed |
        | `model`, `trainer.args.learning_rate`, `rows.0` | any | a name, a field of a live object, an item of a list |
        | `data/train.json`, `${HOME}/runs` | string | a bare word where text is expected is the text itself (where a file is expected, `cmp.json` is a file even when `cmp` is a name, unless `cmp` has a field `json`) |

        Live objects (models, tokenizers, datasets, trainers, results) are shown by `vars` and `show NAME`,
        have fields to read (`show trainer.args`), and are freed with `del NAME`.

        ## Errors

        Errors name the file, line and column, show the line with a caret under the problem, and suggest
        the closest verb, option or name:

        ```text
        <command line>:1:1: error: unknown verb 'shwo'
          shwo x
          ^~~~
          did you mean 'show'?
        ```

        ## Interrupting

        Ctrl-C stops the running command (loading, training, generating, evaluating) and returns to the
        prompt with every name kept. Pressing it three times quits a command that does not stop.

        """
        for group in registry.groups where !group.verbs.isEmpty {
            out += "\n## \(group.title)\n\n"
            if !group.intro.isEmpty { out += group.intro + "\n\n" }
            for verb in group.verbs where registry.verb(named: verb.name) != nil {
                out += "### `\(verb.name)`\n\n\(verb.summary)\n\n```text\n\(verb.usage)\n```\n\n"
                if !verb.details.isEmpty { out += verb.details + "\n\n" }
                let parameters = verb.allParameters
                if !parameters.isEmpty {
                    out += "| Argument | Type | Default | Meaning |\n|---|---|---|---|\n"
                    for p in parameters {
                        let isKeyword = verb.keywords.contains { $0.name == p.name }
                        let label = isKeyword ? "`\(p.name)=`" : "`\(p.name.uppercased())`"
                        let def = p.defaultValue.map { "`\($0.display)`" } ?? (p.required ? "required" : "optional")
                        out += "| \(label) | \(p.type.label.replacingOccurrences(of: "|", with: " \\| ")) | \(def) | \(registry.help(of: p)) |\n"
                    }
                    out += "\n"
                }
                if !verb.examples.isEmpty {
                    out += "```medrepl\n" + verb.examples.joined(separator: "\n") + "\n```\n\n"
                }
            }
        }
        while out.hasSuffix("\n\n") { out.removeLast() }
        return out
    }
}

// Loading QA datasets: a JSON array file (medical-o1-verifiable-problem's layout), JSON Lines, or a
// Hugging Face dataset id resolved in the local hub cache. Unusable rows are skipped and counted in
// a LoadReport; a file that is broken as a whole is an error naming file, line and column.
import Foundation
import Support
import Weights

extension QADataset {
    /// Loads a dataset from a file path or a Hugging Face dataset id ("ORG/NAME") in the hub cache.
    ///
    /// Which one `source` is follows ``ResourceName``'s rule (shared with model names): a name that
    /// exists, starts with `.`, `/` or `~`, ends in `.json`/`.jsonl`, or whose first folder exists is a
    /// path; otherwise `ORG/NAME` is looked up in the cache. Relative paths are under `directory`.
    ///
    /// ```swift
    /// let a = try QADataset.load(source: "data/medqa_small.train.json")
    /// let b = try QADataset.load(source: "FreedomIntelligence/medical-o1-verifiable-problem")
    /// ```
    public static func load(source: String, columns: QAColumns = .medicalO1, strict: Bool = false,
                            environment: [String: String] = ProcessInfo.processInfo.environment,
                            directory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)) throws -> QADataset {
        switch ResourceName.classify(source, directory: directory) {
        case .hub:
            do {
                return try load(hubID: source, columns: columns, strict: strict, environment: environment)
            } catch DatasetError.hubDatasetNotFound(let id, let searched) {
                // It may have been meant as a relative path; say that was tried too.
                throw DatasetError.hubDatasetNotFound(id: id, searched: ["\(source) (no such file)"] + searched)
            }
        case .path(let url):
            guard FileManager.default.fileExists(atPath: url.path) else {
                if let near = ResourceName.closestExisting(source, at: url) {
                    throw DatasetError.fileNotFoundNear(path: source, suggestion: near)
                }
                throw DatasetError.fileNotFound(path: source)
            }
            return try load(path: url.path, columns: columns, strict: strict)
        }
    }

    /// Loads a JSON array file or a JSON Lines file (`.jsonl`, or any file whose first value is
    /// followed by another on a new line).
    ///
    /// Rows without the two columns, with a non-string value or with invalid UTF-8 are skipped
    /// and listed in ``loadReport``; with `strict: true` the first such row is an error instead.
    ///
    /// ```swift
    /// let data = try QADataset.load(path: "../shared/data/medical_o1_verifiable_problem.demo198.json")
    /// print(data.loadReport.summary)   // read 198 rows from ..., loaded 198, skipped 0
    /// ```
    public static func load(path: String, columns: QAColumns = .medicalO1, strict: Bool = false) throws -> QADataset {
        let bytes = try readBytes(path)
        let name = (path as NSString).lastPathComponent
        let lines = path.lowercased().hasSuffix(".jsonl") || looksLikeJSONLines(bytes)
        let (rows, report): ([QARow], LoadReport)
        if lines {
            do {
                (rows, report) = try parseJSONLines(bytes, path: path, columns: columns, strict: strict)
            } catch let error as DatasetError {
                // A pretty-printed single object fails line by line; name what the file really is.
                let nonBlankLines = bytes.split(separator: 0x0A).filter { $0.contains { ![0x20, 0x09, 0x0D].contains($0) } }.count
                if nonBlankLines > 1, let whole = try? JSONReader.parse(bytes), case .object(let members) = whole {
                    throw DatasetError.notAnArray(path: path, found: "object with keys " + members.prefix(8).map { "\"\($0.0)\"" }.joined(separator: ", "))
                }
                throw error
            }
        } else {
            (rows, report) = try parseJSONArray(bytes, path: path, columns: columns, strict: strict)
        }
        return QADataset(rows: rows, columns: columns, name: name, loadReport: report)
    }

    /// Loads every `.json`/`.jsonl` data file of a dataset in the local Hugging Face hub cache:
    /// `$HF_HUB_CACHE` or `$HF_HOME/hub` (default `~/.cache/huggingface/hub`), folder
    /// `datasets--ORG--NAME/snapshots/REV/`. `revision` defaults to the commit `refs/main` names,
    /// else the newest snapshot.
    ///
    /// ```swift
    /// let data = try QADataset.load(hubID: "FreedomIntelligence/medical-o1-verifiable-problem")
    /// ```
    public static func load(hubID: String, revision: String? = nil, columns: QAColumns = .medicalO1,
                            strict: Bool = false, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> QADataset {
        let snapshot = try hubSnapshot(id: hubID, revision: revision, environment: environment)
        let files = dataFiles(in: snapshot)
        guard !files.isEmpty else { throw DatasetError.noDataFiles(directory: snapshot) }
        var rows: [QARow] = []
        var report = LoadReport()
        for file in files {
            let part = try load(path: file, columns: columns, strict: strict)
            rows += part.rows
            report.merge(part.loadReport)
        }
        return QADataset(rows: rows, columns: columns, name: hubID, loadReport: report)
    }

    /// The hub cache root the environment points at.
    public static func hubCacheDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let cache = environment["HF_HUB_CACHE"], !cache.isEmpty { return cache }
        if let home = environment["HF_HOME"], !home.isEmpty { return home + "/hub" }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/huggingface/hub" }
        return NSHomeDirectory() + "/.cache/huggingface/hub"
    }

    // MARK: - Files

    static func readBytes(_ path: String) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DatasetError.fileNotFound(path: path)
        }
        if isDirectory.boolValue { throw DatasetError.unreadable(path: path, reason: "it is a directory") }
        do {
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw DatasetError.unreadable(path: path, reason: FileSystemError.reason(for: error, path: path))
        }
    }

    /// A file that starts with '{' is JSON Lines (a JSON array starts with '[').
    private static func looksLikeJSONLines(_ bytes: [UInt8]) -> Bool {
        let start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        guard let first = bytes[start...].first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) else { return false }
        return first == UInt8(ascii: "{")
    }

    private static func hubSnapshot(id: String, revision: String?, environment: [String: String]) throws -> String {
        let parts = id.split(separator: "/")
        guard parts.count == 2 else { throw DatasetError.invalidArgument("\"\(id)\" is not a hub dataset id of the form ORG/NAME") }
        let root = hubCacheDirectory(environment: environment)
        let repo = "\(root)/datasets--\(parts[0])--\(parts[1])"
        let snapshots = repo + "/snapshots"
        let fm = FileManager.default
        guard let revisions = try? fm.contentsOfDirectory(atPath: snapshots), !revisions.isEmpty else {
            throw DatasetError.hubDatasetNotFound(id: id, searched: [snapshots])
        }
        var wanted = revision
        if wanted == nil, let ref = try? String(contentsOfFile: repo + "/refs/main", encoding: .utf8) {
            wanted = ref.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if let wanted, revisions.contains(wanted) { return snapshots + "/" + wanted }
        if let revision { throw DatasetError.hubDatasetNotFound(id: "\(id)@\(revision)", searched: [snapshots]) }
        let newest = revisions.max { a, b in modificationDate(snapshots + "/" + a) < modificationDate(snapshots + "/" + b) }!
        return snapshots + "/" + newest
    }

    private static func modificationDate(_ path: String) -> Date {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date) ?? .distantPast
    }

    /// The snapshot's data files, sorted; metadata such as dataset_info.json is not data.
    private static func dataFiles(in directory: String) -> [String] {
        let metadata: Set<String> = ["dataset_info.json", "dataset_infos.json", "dataset_dict.json", "state.json", "config.json"]
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return [] }
        var files: [String] = []
        for case let relative as String in walker {
            let name = (relative as NSString).lastPathComponent
            let lower = name.lowercased()
            guard lower.hasSuffix(".json") || lower.hasSuffix(".jsonl"), !metadata.contains(lower), !name.hasPrefix(".") else { continue }
            files.append(directory + "/" + relative)
        }
        return files.sorted()
    }

    // MARK: - Aliases

    /// An alias file: a JSON object from an answer, as the dataset writes it, to its aliases (a list of strings, or
    /// one string with `|` between them).
    ///
    /// ```json
    /// {"Vitamin B12 deficiency": ["cobalamin deficiency", "B12 deficiency"], "Myocardial infarction": "heart attack | MI"}
    /// ```
    public static func loadAliases(path: String) throws -> AliasTable {
        let bytes = try readBytes(path)
        let whole: JSONValue
        do { whole = try JSONReader.parse(bytes) } catch {
            throw DatasetError.malformedJSON(path: path, line: error.line, column: error.column, message: error.message)
        }
        guard case .object(let members) = whole else {
            throw DatasetError.invalidArgument("\(path): an alias file is a JSON object from each answer to its aliases, "
                                               + "like {\"Myocardial infarction\": [\"heart attack\", \"MI\"]}; found a top-level \(whole.kindName)")
        }
        var table: [String: [String]] = [:]
        for (answer, value) in members {
            switch aliasList(value) {
            case .success(let list): table[answer, default: []] += list
            case .failure(let found):
                throw DatasetError.invalidArgument("\(path): the aliases of \"\(answer)\" hold a \(found); write a list of strings")
            }
        }
        return AliasTable(table)
    }

    /// The aliases a JSON value lists: a string (alternatives between `|`) or a list of such strings; else the
    /// kind of value found (for the caller's message).
    static func aliasList(_ value: JSONValue) -> Result<[String], AliasKindError> {
        switch value {
        case .string(let s): return .success(QARow.splitAliases(s))
        case .array(let items):
            var list: [String] = []
            for item in items {
                guard case .string(let s) = item else { return .failure(AliasKindError(kind: item.kindName)) }
                list += QARow.splitAliases(s)
            }
            return .success(list)
        default: return .failure(AliasKindError(kind: value.kindName))
        }
    }

    /// A value that is no alias: the JSON kind found ("number", "string with invalid UTF-8", ...).
    struct AliasKindError: Error, CustomStringConvertible {
        var kind: String
        var description: String { kind }
    }

    // MARK: - Rows

    private static func parseJSONArray(_ bytes: [UInt8], path: String, columns: QAColumns, strict: Bool) throws -> ([QARow], LoadReport) {
        let elements: [(value: JSONValue, line: Int)]
        do {
            elements = try JSONReader.parseArrayWithLines(bytes)
        } catch {
            // A top-level object or scalar: say what it is rather than only where parsing stopped.
            if let whole = try? JSONReader.parse(bytes) { throw DatasetError.notAnArray(path: path, found: whole.kindName) }
            throw DatasetError.malformedJSON(path: path, line: error.line, column: error.column, message: error.message)
        }
        return try collect(elements.enumerated().map { (row: $0.offset, line: $0.element.line, value: Result.success($0.element.value)) },
                           path: path, columns: columns, strict: strict)
    }

    private static func parseJSONLines(_ bytes: [UInt8], path: String, columns: QAColumns, strict: Bool) throws -> ([QARow], LoadReport) {
        var entries: [(row: Int, line: Int, value: Result<JSONValue, JSONSyntaxError>)] = []
        var lineNumber = 0
        var start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        while start < bytes.count {
            lineNumber += 1
            let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
            let line = Array(bytes[start..<end])
            start = end + 1
            if line.allSatisfy({ [0x20, 0x09, 0x0D].contains($0) }) { continue }  // blank lines are not rows
            let parsed: Result<JSONValue, JSONSyntaxError>
            do { parsed = .success(try JSONReader.parse(line)) } catch { parsed = .failure(error) }
            if case .failure(let e) = parsed, strict {
                throw DatasetError.malformedJSON(path: path, line: lineNumber, column: e.column, message: e.message)
            }
            entries.append((entries.count, lineNumber, parsed))
        }
        return try collect(entries, path: path, columns: columns, strict: strict)
    }

    private static func collect(_ entries: [(row: Int, line: Int, value: Result<JSONValue, JSONSyntaxError>)],
                                path: String, columns: QAColumns, strict: Bool) throws -> ([QARow], LoadReport) {
        var rows: [QARow] = []
        rows.reserveCapacity(entries.count)
        var report = LoadReport(files: [path], rowsRead: entries.count)
        var keysSeen: [String] = []
        for entry in entries {
            let outcome: Result<QARow, SkipReason>
            switch entry.value {
            case .failure(let e):
                outcome = .failure(.malformedLine("column \(e.column): \(e.message)"))
            case .success(let value):
                if case .object(let members) = value {
                    for (k, _) in members where !keysSeen.contains(k) && keysSeen.count < 20 { keysSeen.append(k) }
                }
                outcome = makeRow(value, sourceRow: entry.row, columns: columns)
            }
            switch outcome {
            case .success(let row): rows.append(row)
            case .failure(let reason):
                if strict { throw DatasetError.badRow(path: path, row: entry.row, line: entry.line, reason: reason.description) }
                report.skipped.append(SkippedRow(file: path, row: entry.row, line: entry.line, reason: reason))
            }
        }
        report.rowsLoaded = rows.count
        if rows.isEmpty && !entries.isEmpty {
            // Nothing had the columns at all: the wrong file or other column names, not bad rows.
            let missing = report.skipped.allSatisfy { if case .missingKey = $0.reason { return true } else { return false } }
            if missing { throw DatasetError.missingColumns(path: path, expected: [columns.question, columns.answer], found: keysSeen) }
            throw DatasetError.noUsableRows(path: path, report: report.summary)
        }
        return (rows, report)
    }

    private static func makeRow(_ value: JSONValue, sourceRow: Int, columns: QAColumns) -> Result<QARow, SkipReason> {
        guard case .object = value else { return .failure(.notAnObject(found: value.kindName)) }
        func text(_ key: String) -> Result<String, SkipReason> {
            switch value[key] {
            case nil: return .failure(.missingKey(key))
            case .string(let s)?: return .success(s)
            case .invalidString?: return .failure(.invalidUTF8(key: key))
            case let other?: return .failure(.notAString(key: key, found: other.kindName))
            }
        }
        var aliases: [String] = []
        if let key = columns.aliases, let listed = value[key], listed != .null {
            if case .invalidString = listed { return .failure(.invalidUTF8(key: key)) }
            switch aliasList(listed) {
            case .success(let list): aliases = list
            case .failure(let found): return .failure(.notAString(key: key, found: found.kind))
            }
        }
        switch (text(columns.question), text(columns.answer)) {
        case (.success(let q), .success(let a)): return .success(QARow(question: q, answer: a, sourceRow: sourceRow, aliases: aliases))
        case (.failure(let reason), _), (_, .failure(let reason)): return .failure(reason)
        }
    }
}

import Foundation
import Support
import Synchronization

/// One check's outcome, kept for `medrepl grade` and the end-of-run summary.
public struct CheckResult: Sendable {
    public var label: String
    public var passed: Bool
    public var message: String
    public var points: Double
    /// Points earned when a check gives partial credit (`check_answer`); nil means all or nothing.
    public var earned: Double? = nil
    /// The teacher's hint for a student who fails the check (`hint=`); nil for none.
    public var hint: String? = nil
    /// What the answer lacks, idea by idea in words (`check_answer`); empty for other checks.
    public var missing: [String] = []

    public init(label: String, passed: Bool, message: String, points: Double, earned: Double? = nil,
                hint: String? = nil, missing: [String] = []) {
        self.label = label; self.passed = passed; self.message = message; self.points = points; self.earned = earned
        self.hint = hint; self.missing = missing
    }

    /// What the check earns when graded: `earned` if set, else all its points or none.
    public var score: Double { earned ?? (passed ? points : 0) }
}

/// Everything alive between commands: named values and objects, the output sink, the environment,
/// and where the outputs came from (model, seed) for the notebook header.
///
/// The language knows no verbs: a session runs those of the registry it is given (every verb medrepl
/// ships is `Registry.standard()`, in the Notebook module).
///
/// ```swift
/// let session = Session(registry: .standard(), output: .standardOutput())
/// try session.run("x = 3\nprint x")
/// ```
public final class Session {
    public let registry: Registry
    public let output: OutputSink
    /// Environment for `${NAME}` expansion (the process environment by default).
    public var environment: [String: String]
    /// The working folder relative paths resolve against.
    public var directory: URL
    /// When set (grading a student's notebook), every path resolves inside this folder: absolute
    /// paths and `..` cannot leave it.
    public var pathRoot: URL?
    /// Values by name; `value(named:)`, `set` and `remove` are the way in from outside.
    var values: [String: Value] = [:]
    /// Names in the order they were first defined, for `vars`.
    public private(set) var names: [String] = []
    /// Cells run so far in the shell; the prompt shows the next number.
    public var cellCount = 0
    /// What the notebook header records: "model", "seed" (engine verbs set them).
    public var provenance: [String: String] = [:]
    /// The seed verbs use when not given one; `seed N` sets it.
    public var seed: Int = 42
    /// Commands run in this session, with their outputs (for `save`; see Transcript.swift).
    public var transcript: [TranscriptEntry] = []
    /// Set by a verb that Ctrl-C stopped part-way, for the statement running now (see `stoppedByInterrupt`).
    var interruptRecord: TranscriptEntry.Interruption?
    /// Called before each statement runs: throwing stops the run with that error; setting `exitRequested` stops it
    /// there quietly, the statement not run (`medrepl export-training` stops before `train`).
    public var beforeStatement: ((Statement) throws -> Void)?
    /// Where each live object was made (see `origin(of:)`).
    private var origins: [ObjectIdentifier: ObjectOrigin] = [:], originsPruneAt = 64
    /// Outcomes of `check` so far.
    public var checks: [CheckResult] = []
    /// Set by `exit`; the shell and runners stop when it is set.
    public var exitRequested: Int32?
    /// What verbs keep between commands that is not a value of the language, one value per type (see
    /// `subscript(state:)`).
    private var states: [ObjectIdentifier: Any] = [:]

    public init(registry: Registry, output: OutputSink = OutputSink(),
                environment: [String: String] = ProcessInfo.processInfo.environment,
                directory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)) {
        self.registry = registry; self.output = output; self.environment = environment; self.directory = directory
    }

    /// State a group of verbs keeps for the session's lifetime, one value per type, nil until set: the
    /// notebook verbs keep there the notebook `open` opened, for `cells` and `runcell`.
    ///
    /// ```swift
    /// session[state: OpenNotebook.self] = OpenNotebook(document: doc, path: path)
    /// ```
    public subscript<State>(state type: State.Type) -> State? {
        get { states[ObjectIdentifier(type)] as? State }
        set { states[ObjectIdentifier(type)] = newValue }
    }

    // MARK: names

    public func value(named name: String) -> Value? { values[name] }

    public func set(_ name: String, _ value: Value) {
        if values[name] == nil { names.append(name) }
        values[name] = value
    }

    /// Forgets a name; a live object held only here is released and freed.
    @discardableResult
    public func remove(_ name: String) -> Value? {
        guard let old = values.removeValue(forKey: name) else { return nil }
        names.removeAll { $0 == name }
        if case .object(let o) = old, !values.values.contains(where: { if case .object(let p) = $0 { return p === o } else { return false } }) {
            o.release()
        }
        return old
    }

    /// Names of live objects, optionally only those of a type.
    public func objectNames(ofType type: String = "") -> [String] {
        names.filter { name in
            guard case .object(let o)? = values[name] else { return type.isEmpty }
            return type.isEmpty || o.typeName == type
        }
    }

    // MARK: output and cancellation

    /// Writes text exactly as given (no newline added).
    public func write(_ text: String) { output.write(text) }
    /// Writes one line.
    public func writeLine(_ text: String = "") { output.write(text + "\n") }

    /// Throws `CancelledError` once Ctrl-C was pressed; call it between steps of anything long.
    public func checkCancelled() throws {
        if takeInterrupt() { throw CancelledError() }
    }

    /// Whether Ctrl-C (this process's SIGINT) stops this session's cells. On by default; a session that
    /// runs beside others in one process (tests, a grader) turns it off so their interrupts are not its own.
    public var receivesInterrupts = true

    /// Consumes a pending Ctrl-C meant for this session; returns whether there was one. Long-running
    /// verbs that keep partial results (training, evaluation) poll this instead of `checkCancelled`.
    public func takeInterrupt() -> Bool {
        let own = ownInterrupt.exchange(false, ordering: .sequentiallyConsistent)
        return own || (receivesInterrupts && Interrupts.take())
    }

    /// Interrupts this session alone, as Ctrl-C would: the running cell stops at its next check.
    /// For embedders and tests, where several sessions share one process.
    public func interrupt() { ownInterrupt.store(true, ordering: .sequentiallyConsistent) }

    private let ownInterrupt = Atomic<Bool>(false)

    /// Resolves a relative path against the session's folder and expands `~/`.
    public func resolvePath(_ path: String) -> URL {
        var p = path
        if let root = pathRoot { return URL(fileURLWithPath: Session.confinePath(p, root: root, directory: directory)) }
        if p == "~" || p.hasPrefix("~/") { p = (environment["HOME"] ?? NSHomeDirectory()) + p.dropFirst() }
        return p.hasPrefix("/") ? URL(fileURLWithPath: p) : directory.appendingPathComponent(p)
    }

    /// How a message names a file: relative to the session's folder when it is inside it
    /// (`outputs/medical-lora/loss_curve.svg`), else the whole path.
    public func displayPath(_ url: URL) -> String {
        let folder = directory.standardizedFileURL.path, path = url.standardizedFileURL.path
        return path.hasPrefix(folder + "/") ? String(path.dropFirst(folder.count + 1)) : path
    }

    /// `path` resolved inside `root`: relative to `directory` (when that is inside `root`), an
    /// absolute path or `~` taken from `root`, and `..` never climbing above it.
    ///
    /// ```swift
    /// Session.confinePath("/etc/passwd", root: URL(fileURLWithPath: "/srv/class"))   // "/srv/class/etc/passwd"
    /// ```
    public static func confinePath(_ path: String, root: URL, directory: URL? = nil) -> String {
        let rootParts = root.standardizedFileURL.pathComponents
        var parts = (directory ?? root).standardizedFileURL.pathComponents
        if parts.count < rootParts.count || Array(parts.prefix(rootParts.count)) != rootParts { parts = rootParts }
        if path.hasPrefix("/") || path.hasPrefix("~") { parts = rootParts }
        for part in path.split(separator: "/") where part != "." && part != "~" {
            if part == ".." {
                if parts.count > rootParts.count { parts.removeLast() }
            } else {
                parts.append(String(part))
            }
        }
        return NSString.path(withComponents: parts)
    }

    // MARK: running

    /// Parses and runs commands, showing each unassigned result. Stops at the first error.
    public func run(_ text: String, file: String = "<input>", firstLine: Int = 1, columnOffset: Int = 0) throws {
        let source = SourceText(file: file, text: text, firstLine: firstLine, columnOffset: columnOffset)
        for statement in try Parser.parse(source, verbs: registry.verbNames) {
            try beforeStatement?(statement)
            if exitRequested != nil { return }
            try execute(statement)
            if exitRequested != nil { return }
        }
    }

    /// Runs one statement: calls its verb (or evaluates its expression), assigns or shows the result.
    @discardableResult
    public func execute(_ statement: Statement) throws -> Value {
        let result: Value
        var quiet = false
        if let verbName = statement.verb, let verb = registry.verb(named: verbName) {
            let invocation = try bind(statement, to: verb)
            quiet = verb.quietResult
            do {
                result = try verb.handler(invocation, self)
                if case .object(let o) = result { recordOrigin(of: o, invocation) }
            } catch let e as LanguageError {
                throw e
            } catch let e as CancelledError {
                throw e
            } catch {
                throw LanguageError(.runtime, "\(verbName): \(FileSystemError.plainDescription(of: error))", source: statement.source,
                                    range: statement.verbRange)
            }
        } else if let expr = statement.expression {
            result = try evaluate(expr, as: .any, source: statement.source)
        } else {
            result = .none
        }
        if let target = statement.target {
            set(target, result)
        } else if !quiet, case .none = result {
        } else if !quiet {
            writeLine(Session.show(result))
        }
        return result
    }

    /// The call that made `object` (its verb, statement and argument positions, not its argument values, which would
    /// keep other objects alive), so a later check can point at the option that set something:
    /// `session.origin(of: args)?.error("...", at: "save_steps")`. Nil for objects made elsewhere.
    public func origin(of object: AnyObject) -> Invocation? {
        guard let entry = origins[ObjectIdentifier(object)], entry.object === object else { return nil }
        return entry.invocation
    }

    private func recordOrigin(of object: AnyObject, _ invocation: Invocation) {
        if origin(of: object) != nil { return }   // the first call made it; later ones only returned it
        if origins.count >= originsPruneAt {   // forget the objects gone since, now and then rather than on every call
            origins = origins.filter { $0.value.object != nil }
            originsPruneAt = max(64, 2 * origins.count)
        }
        origins[ObjectIdentifier(object)] = ObjectOrigin(object: object, invocation: Invocation(
            verb: invocation.verb, target: invocation.target, values: [:], given: invocation.given,
            statement: invocation.statement, argumentRanges: invocation.argumentRanges))
    }

    /// How a result is shown when not assigned: objects as `Type: summary`, values as literals.
    public static func show(_ value: Value) -> String {
        if case .object(let o) = value { return "\(o.typeName): \(o.summary)" }
        return value.display
    }
}

/// A live object and the call that made it, held weakly so the record never keeps the object alive.
private final class ObjectOrigin {
    weak var object: AnyObject?
    let invocation: Invocation
    init(object: AnyObject, invocation: Invocation) { self.object = object; self.invocation = invocation }
}

/// The one table of verbs. Parsing, argument checking, `help`, Tab completion, error suggestions and
/// docs/language.md all read it, so a verb is described once.
///
/// The language knows no verbs of its own: the Notebook module declares the ones medrepl ships
/// (`Registry.standard()`, Sources/Notebook/Verbs/StandardGroups.swift). Adding verbs: write
/// `Sources/Notebook/Verbs/ModelVerbs.swift` with
/// `extension VerbGroup { static var model: VerbGroup { VerbGroup("Models", verbs: [...]) } }`
/// and add `.model` to `Registry.standardGroups` (Verbs/StandardGroups.swift).
///
/// ```swift
/// let hello = Verb("hello", summary: "Say hello.", examples: ["hello"]) { _, session in session.writeLine("hello"); return .none }
/// let registry = Registry(groups: [VerbGroup("Greetings", verbs: [hello])])
/// registry.verb(named: "hello")?.summary   // "Say hello."
/// ```
public final class Registry: @unchecked Sendable {
    public private(set) var groups: [VerbGroup] = []
    private var byName: [String: Verb] = [:]

    public init(groups: [VerbGroup]) {
        for g in groups { add(g) }
    }

    /// Adds a group of verbs; a verb with an existing name replaces the old one.
    public func add(_ group: VerbGroup) {
        groups.append(group)
        for v in group.verbs { byName[v.name] = v }
    }

    /// Adds or replaces one verb, in a group named `group`.
    public func register(_ verb: Verb, group: String = "More verbs") {
        if let i = groups.firstIndex(where: { $0.title == group }) {
            groups[i].verbs.removeAll { $0.name == verb.name }
            groups[i].verbs.append(verb)
        } else {
            groups.append(VerbGroup(group, verbs: [verb]))
        }
        byName[verb.name] = verb
    }

    public func verb(named name: String) -> Verb? { byName[name] }

    /// Every verb, in group order.
    public var verbs: [Verb] {
        var seen = Set<String>()
        return groups.flatMap(\.verbs).filter { seen.insert($0.name).inserted && byName[$0.name] != nil }
    }

    public var verbNames: Set<String> { Set(byName.keys) }

    /// What `help`, the language reference and a missing argument's error say of a parameter: its own help,
    /// or, for an object parameter without any, the verb that makes such an object (`Verb.makes`).
    ///
    /// ```swift
    /// registry.help(of: Parameter("trainer", .object("Trainer")))   // "from make_trainer"
    /// ```
    public func help(of p: Parameter) -> String {
        guard p.help.isEmpty, case .object(let type) = p.type, let maker = maker(of: type) else { return p.help }
        return "from \(maker.name)"
    }

    /// The verb that makes objects of `type` (`Verb.makes`), for messages that say where one comes from.
    public func maker(of type: String) -> Verb? { verbs.first { $0.makes == type } }
}

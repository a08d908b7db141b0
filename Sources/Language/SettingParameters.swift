import Foundation
import Support

// An engine settings table (Support/Settings.swift) seen from the language: a verb's keyword parameters, the
// arguments stored into a settings value with errors at the argument, and an object's fields. A verb that makes
// settings is then three lines:
//
//     Verb("training_args", summary: "…", keywords: TrainingArguments.settings.parameters(defaults: .notebook(output_dir: ""))) { inv, session in
//         var args = TrainingArguments.notebook(output_dir: "")
//         try TrainingArguments.settings.store(inv, into: &args, session: session)
//         return .object(TrainingArgumentsObject(args))
//     }

extension SettingsTable {
    /// One keyword parameter per setting (or per setting named in `only`), its default read from `defaults`. A
    /// required setting has none; `seed` defaults to the session's seed (`seed 7`).
    public func parameters(defaults: Root, only: [String]? = nil) -> [Parameter] {
        settings.filter { only?.contains($0.name) ?? true }.map { s in
            if s.required { return Parameter(s.name, s.kind.parameterType, help: s.help) }
            if s.name == "seed" { return Parameter(s.name, s.kind.parameterType, optional: true, help: s.help + " (default: the session's seed)") }
            return Parameter(s.name, s.kind.parameterType, default: Value(s.value(of: defaults)), help: s.help)
        }
    }

    /// Stores every argument of `inv` into `root` (only the settings named in `only`, as `parameters(only:)` made
    /// them: a verb's other parameter of the same name, such as the evaluation's row `seed`, is not this setting),
    /// checked: an error names the argument and points at it. A path is resolved against the session's folder, an
    /// absent `seed` is the session's seed.
    public func store(_ inv: Invocation, into root: inout Root, session: Session, only: [String]? = nil) throws {
        for s in settings where only?.contains(s.name) ?? true {
            var value = inv.value(s.name)
            if case .none = value {
                guard s.name == "seed" else { continue }
                value = .int(session.seed)
            }
            if s.kind == .path, case .string(let path) = value { value = .string(session.resolvePath(path).path) }
            guard let setting = value.settingValue else {
                let wanted = s.kind == .strings ? "a list of names" : "a value of type \(s.kind.parameterType.label)"
                throw inv.error("\(s.name) needs \(wanted), got \(value.display)", at: s.name)
            }
            do { try s.set(setting, in: &root) } catch let error as SettingError {
                throw inv.error(error.description, at: s.name, hint: "\(s.name): \(s.help)")
            }
        }
    }

    /// `args.learning_rate`: the setting's value, or nil when there is no setting of that name.
    public func field(_ name: String, of root: Root) -> Value? {
        self[name].map { Value($0.value(of: root)) }
    }
}

extension SettingKind {
    /// The parameter type a verb declares for a setting of this kind.
    public var parameterType: ParameterType {
        switch self {
        case .int: return .int
        case .double: return .double
        case .bool: return .bool
        case .string: return .string
        case .strings: return .list
        case .path: return .path
        case .choice(let words): return .choice(words)
        }
    }
}

extension Value {
    /// A setting's value in the language.
    public init(_ setting: SettingValue) {
        switch setting {
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .bool(let b): self = .bool(b)
        case .string(let s): self = .string(s)
        case .strings(let a): self = .list(a.map { .string($0) })
        case .none: self = .none
        }
    }

    /// The value as a setting takes it; nil for a list of anything but text, or an object.
    public var settingValue: SettingValue? {
        switch self {
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .bool(let b): return .bool(b)
        case .string(let s): return .string(s)
        case .list(let items):
            var names: [String] = []
            for item in items { guard case .string(let s) = item else { return nil }; names.append(s) }
            return .strings(names)
        default: return nil
        }
    }
}

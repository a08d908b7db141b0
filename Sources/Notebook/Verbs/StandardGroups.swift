import Language

extension Registry {
    /// Every verb group medrepl ships, in the order `help` and docs/language.md list them.
    ///
    /// To add verbs for an engine module, write `Verbs/<Topic>Verbs.swift` declaring
    /// `extension VerbGroup { public static var <topic>: VerbGroup { ... } }` and add it here.
    public static var standardGroups: [VerbGroup] {
        [.core, .checks, .exercises, .notebooks, .device, .models, .text, .adapters, .datasets, .training, .evaluation]
    }

    /// The registry with every verb medrepl ships.
    public static func standard() -> Registry { Registry(groups: standardGroups) }
}

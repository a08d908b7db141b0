import Foundation
import TestSupport
import Testing

/// Package.swift's dependencies are the imports (issue 17): each target declares exactly the modules of this
/// package that its Swift files import, no more (a dependency nothing uses) and no fewer (a module reached
/// only through another target's dependencies).
@Suite struct PackageManifestTests {
    @Test func everyTargetDeclaresExactlyWhatItImports() throws {
        let targets = try PackageManifest.targets(in: String(contentsOf: Repository.url("Package.swift"), encoding: .utf8))
        #expect(targets.count > 20, "Package.swift's targets were not found: \(targets.map(\.name))")
        let names = Set(targets.map(\.name))
        for target in targets {
            let imported = try PackageManifest.imports(under: Repository.url(target.path)).intersection(names)
            for module in imported.subtracting(target.dependencies).sorted() {
                Issue.record("Package.swift: \(target.name) imports \(module) but does not list it in its dependencies")
            }
            for module in target.dependencies.subtracting(imported).sorted() {
                Issue.record("Package.swift: \(target.name) lists \(module) in its dependencies but no file of it imports it")
            }
        }
    }

    /// The reader itself, on a manifest of its own: paths given and implied, conditional imports, and the
    /// two kinds of difference it reports.
    @Test func readsTargetsAndImports() throws {
        let manifest = """
        let package = Package(name: "p", targets: [
            // .target(name: "Commented", dependencies: ["Out"]),
            .systemLibrary(name: "CLib", path: "Sources/CLib", pkgConfig: "lib"),
            .target(name: "A", dependencies: ["CLib"], swiftSettings: flags),
            .executableTarget(name: "B", dependencies: ["A", .target(name: "CLib")], path: "tools/b"),
            .testTarget(name: "ATests", dependencies: ["A"], exclude: ["Fixtures"]),
        ])
        """
        let targets = try PackageManifest.targets(in: manifest)
        #expect(targets.map(\.name) == ["CLib", "A", "B", "ATests"])
        #expect(targets.map(\.path) == ["Sources/CLib", "Sources/A", "tools/b", "Tests/ATests"])
        #expect(targets.map(\.dependencies) == [[], ["CLib"], ["A", "CLib"], ["A"]])

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("medrepl-manifest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("Sub"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try """
        import Foundation
        @preconcurrency import A
        #if canImport(Glibc)
        import Glibc
        #endif
        /// import NotThis (a comment)
        let text = "import NorThis"
        """.write(to: folder.appendingPathComponent("One.swift"), atomically: true, encoding: .utf8)
        try "import struct CLib.Thing\n".write(to: folder.appendingPathComponent("Sub/Two.swift"), atomically: true, encoding: .utf8)
        try "import B\n".write(to: folder.appendingPathComponent("Sub/notes.txt"), atomically: true, encoding: .utf8)
        #expect(try PackageManifest.imports(under: folder) == ["Foundation", "A", "Glibc", "CLib"])
    }
}

/// A small reader of Package.swift's target declarations and of the modules Swift files import.
enum PackageManifest {
    struct Target: Equatable {
        var name: String
        /// The target's folder, relative to the package: its `path:`, else `Sources/NAME` (`Tests/NAME` for a test target).
        var path: String
        /// The names in its `dependencies:` list (string literals and `.target(name:)` alike).
        var dependencies: Set<String>
    }

    struct Unreadable: Error, CustomStringConvertible {
        var description: String
    }

    static let kinds = ["target", "executableTarget", "testTarget", "systemLibrary", "binaryTarget", "macro", "plugin"]

    /// The targets declared in `manifest`, in order; lines that are `//` comments are skipped.
    static func targets(in manifest: String) throws -> [Target] {
        let text = manifest.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("//") }.joined(separator: "\n")
        let chars = Array(text)
        var targets: [Target] = []
        var i = 0
        while i < chars.count {
            guard chars[i] == ".", let kind = kinds.first(where: { declares(chars, at: i + 1, $0) }) else { i += 1; continue }
            let open = i + 1 + kind.count
            guard let close = matching(chars, from: open) else { throw Unreadable(description: "an unclosed .\(kind)( in Package.swift") }
            let body = String(chars[(open + 1)..<close])
            guard let name = firstString(after: "name:", in: body) else { throw Unreadable(description: "a .\(kind) without a name") }
            var dependencies: Set<String> = []
            if let start = body.range(of: "dependencies:") {
                let rest = Array(body[start.upperBound...])
                guard let bracket = rest.firstIndex(of: "["), let end = matching(rest, from: bracket) else {
                    throw Unreadable(description: "\(name)'s dependencies are not a list")
                }
                dependencies = Set(strings(in: String(rest[(bracket + 1)..<end])))
            }
            let path = firstString(after: "path:", in: body) ?? (kind == "testTarget" ? "Tests/" : "Sources/") + name
            targets.append(Target(name: name, path: path, dependencies: dependencies))
            i = close + 1
        }
        return targets
    }

    /// The modules imported by the Swift files under `folder` (its subfolders too): `import X`, with attributes
    /// (`@preconcurrency import X`) or a kind (`import struct X.Y`), at the start of a line.
    static func imports(under folder: URL) throws -> Set<String> {
        var modules: Set<String> = []
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else { return [] }
        for case let file as URL in walker where file.pathExtension == "swift" {
            for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n") {
                var words = line.split(separator: " ").drop { $0.hasPrefix("@") }
                guard words.first == "import" else { continue }
                words = words.dropFirst()
                if let kind = words.first, ["typealias", "struct", "class", "enum", "protocol", "let", "var", "func"].contains(kind) {
                    words = words.dropFirst()
                }
                if let module = words.first?.split(separator: ".").first { modules.insert(String(module)) }
            }
        }
        return modules
    }

    /// Whether `chars` holds `kind(` at `index`, followed (after spaces) by `name:`.
    private static func declares(_ chars: [Character], at index: Int, _ kind: String) -> Bool {
        let opening = Array(kind + "(")
        guard index + opening.count <= chars.count, Array(chars[index..<(index + opening.count)]) == opening else { return false }
        var j = index + opening.count
        while j < chars.count && chars[j].isWhitespace { j += 1 }
        return j + 5 <= chars.count && String(chars[j..<(j + 5)]) == "name:"
    }

    /// The index of the bracket closing the one at `open` (`(` or `[`), skipping string literals.
    private static func matching(_ chars: [Character], from open: Int) -> Int? {
        var depth = 0, inString = false
        for j in open..<chars.count {
            let c = chars[j]
            if inString { if c == "\"" && chars[j - 1] != "\\" { inString = false }; continue }
            switch c {
            case "\"": inString = true
            case "(", "[": depth += 1
            case ")", "]":
                depth -= 1
                if depth == 0 { return j }
            default: break
            }
        }
        return nil
    }

    private static func firstString(after label: String, in body: String) -> String? {
        guard let range = body.range(of: label) else { return nil }
        return strings(in: String(body[range.upperBound...])).first
    }

    /// The string literals in `text`, in order.
    private static func strings(in text: String) -> [String] {
        text.split(separator: "\"", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
    }
}

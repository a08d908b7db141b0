import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The temporary names medrepl's writers put beside what they write, and the clean-up of those an
/// interrupted write (kill -9, a power cut) leaves behind.
///
/// Writing `NAME` (a file through `AtomicFile`, a folder through `AtomicFolder`) uses the sibling
/// `.NAME.medrepl-tmp-PID-XXXXXX`, and while a folder is swapped on a file system without an atomic
/// exchange, `.NAME.medrepl-old-PID-XXXXXX` (PID: the writing process, X: a letter or digit). The next
/// write to `NAME` removes those whose process has ended, and the temporaries earlier versions of medrepl
/// left (`.NAME.XXXXXX.tmp`, `.checkpoint-N.<UUID>.tmp`); nothing else, so a `.notes.tmp` of the user's stays.
/// A folder left moved aside with nothing in its place is put back instead.
///
/// ```swift
/// WriteTemporaries.removeStale(of: URL(fileURLWithPath: "outputs/medical-lora"))
/// // removes outputs/.medrepl-lora.medrepl-tmp-4242-a8Zq0c when process 4242 is gone
/// ```
public enum WriteTemporaries {
    /// What a temporary name holds.
    public enum Kind: String, Sendable {
        /// What is being written.
        case tmp = "medrepl-tmp"
        /// The old folder, moved aside while the new one is renamed in.
        case old = "medrepl-old"
    }

    /// A fresh sibling name for writing `target` (a last path component).
    static func name(for target: String, _ kind: Kind) -> String {
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        var random = SystemRandomNumberGenerator()
        let suffix = String((0..<6).map { _ in letters[Int(random.next(upperBound: UInt64(letters.count)))] })
        return ".\(target).\(kind.rawValue)-\(getpid())-\(suffix)"
    }

    /// The `mkstemp` template of a temporary file for `target`: `.NAME.medrepl-tmp-PID-XXXXXX`.
    static func fileTemplate(for target: String) -> String { ".\(target).\(Kind.tmp.rawValue)-\(getpid())-XXXXXX" }

    /// Whether `entry`, a name in the folder of `target`, is a temporary of a write of `target` that can no
    /// longer finish (its process has ended, or an earlier medrepl left it); its kind, else nil.
    public static func stale(_ entry: String, of target: String) -> Kind? {
        let prefix = ".\(target)."
        guard entry.hasPrefix(prefix) else { return nil }
        return staleKind(String(entry.dropFirst(prefix.count)))
    }

    /// The name whose write left `entry` when `entry` is a stale temporary (of any name in its folder), else nil.
    static func staleTarget(_ entry: String) -> String? {
        guard entry.hasPrefix(".") else { return nil }
        let body = entry.dropFirst()
        // The written name may hold dots itself (adapter_model.safetensors): try every split.
        for i in body.indices where body[i] == "." && staleKind(String(body[body.index(after: i)...])) != nil {
            return String(body[..<i])
        }
        return nil
    }

    /// Removes from `folder` the stale temporaries of every name `isTarget` accepts: a trainer removes what an
    /// interrupted checkpoint left (`.checkpoint-57.medrepl-tmp-...`) when it writes the next one.
    public static func removeStale(in folder: URL, of isTarget: (String) -> Bool) {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        for target in Set(entries.compactMap(staleTarget)) where isTarget(target) {
            removeStale(of: folder.appendingPathComponent(target))
        }
    }

    /// Removes the stale temporaries of `url` from its folder. When `url` does not exist and an old folder
    /// was left aside, the newest such folder is put back in its place first.
    public static func removeStale(of url: URL) {
        let folder = url.deletingLastPathComponent(), target = url.lastPathComponent
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return }
        var leftovers = entries.compactMap { entry in stale(entry, of: target).map { (entry, $0) } }
        if !leftovers.isEmpty, !FileManager.default.fileExists(atPath: url.path) {
            let aside = leftovers.filter { $0.1 == .old }.map(\.0).max { modified(folder, $0) < modified(folder, $1) }
            if let aside, rename(folder.appendingPathComponent(aside).path, url.path) == 0 {
                leftovers.removeAll { $0.0 == aside }
            }
        }
        for (entry, _) in leftovers { try? FileManager.default.removeItem(at: folder.appendingPathComponent(entry)) }
    }

    private static func modified(_ folder: URL, _ entry: String) -> Date {
        ((try? FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(entry).path))?[.modificationDate] as? Date)
            ?? .distantPast
    }

    /// The kind of a temporary's suffix (what follows `.NAME.`) and whether it is stale.
    private static func staleKind(_ suffix: String) -> Kind? {
        guard let (kind, pid) = parse(suffix) else { return nil }
        guard let pid else { return kind }   // an earlier version's: no process to ask
        if pid == getpid() { return nil }    // this process may be writing it now
        let alive = kill(pid, 0) == 0 || errno == EPERM
        return alive ? nil : kind
    }

    /// `medrepl-tmp-PID-XXXXXX` / `medrepl-old-PID-XXXXXX` (with the PID), or an earlier version's `XXXXXX.tmp`
    /// (mkstemps) or `<UUID>.tmp` (checkpoint folders), without one; nil for any other name.
    private static func parse(_ suffix: String) -> (Kind, pid_t?)? {
        func isAlphanumeric(_ s: Substring) -> Bool { s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } }
        for kind in [Kind.tmp, .old] where suffix.hasPrefix(kind.rawValue + "-") {
            let parts = suffix.dropFirst(kind.rawValue.count + 1).split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 2, let pid = pid_t(parts[0]), pid > 0, parts[0].allSatisfy(\.isASCII),
                  parts[1].count == 6, isAlphanumeric(parts[1]) else { return nil }
            return (kind, pid)
        }
        guard suffix.hasSuffix(".tmp") else { return nil }
        let stem = suffix.dropLast(4)
        if stem.count == 6 && isAlphanumeric(stem) { return (.tmp, nil) }
        let groups = stem.split(separator: "-", omittingEmptySubsequences: false)
        if groups.map(\.count) == [8, 4, 4, 4, 12], groups.allSatisfy({ $0.allSatisfy { $0.isHexDigit && !$0.isLowercase } }) {
            return (.tmp, nil)
        }
        return nil
    }

    // MARK: - The interrupted-write tests' hook

    /// Test-only: with `MEDREPL_TEST_STOP_WRITE_AFTER=N` in the environment, the N-th step of this process's
    /// writes (a file written to its temporary name, a file renamed into place, a folder staged, a folder
    /// swapped in, ...) kills the process with SIGKILL, as `kill -9` would, after naming the step on standard
    /// error. The interrupted-write tests (NotebookTests) use it to check what a reader finds at each step.
    /// Without the variable a step costs one comparison.
    static func step(_ what: String) {
        guard let limit = stopAfter else { return }
        let count = steps.withLock { n in n += 1; return n }
        guard count == limit else { return }
        fputs("medrepl: MEDREPL_TEST_STOP_WRITE_AFTER=\(limit): killed after write step \(count) (\(what))\n", stderr)
        kill(getpid(), SIGKILL)
    }

    private static let stopAfter: Int? = ProcessInfo.processInfo.environment["MEDREPL_TEST_STOP_WRITE_AFTER"].flatMap { Int($0) }
    private static let steps = Mutex(0)
}

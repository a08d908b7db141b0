import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes a folder of files (an adapter, a checkpoint, an exported model) so that a reader sees either the
/// complete old folder or the complete new one, never a mix such as new weights beside an old config.
///
/// The files are written into a fresh sibling folder, `.NAME.medrepl-tmp-PID-XXXXXX`; what the old folder
/// holds besides them (a README, checkpoints, files of other tools) is carried over as hard links (copies
/// where the file system has none), so writing into a folder the user also keeps other things in loses
/// nothing; then the new folder takes the old one's place in one step (`renameat2` with `RENAME_EXCHANGE`)
/// and the old one is removed. Where the file system cannot exchange two names, the old folder is first
/// renamed aside (`.NAME.medrepl-old-PID-XXXXXX`): a reader may then find no folder for a moment, but never
/// a mixed one, and the next write puts an old folder left aside back. Either way the next write to the
/// same place removes what an interrupted one left (`WriteTemporaries`).
///
/// ```swift
/// try AtomicFolder.write(to: URL(fileURLWithPath: "outputs/medical-lora"), what: "the adapter folder") { folder in
///     try AtomicFile.write(weights, to: folder.appendingPathComponent("adapter_model.safetensors"))
///     try AtomicFile.write(config, to: folder.appendingPathComponent("adapter_config.json"))
/// }
/// ```
public enum AtomicFolder {
    /// Calls `body` with an empty folder to write the files into, then puts that folder in `directory`'s
    /// place as described above. `what` names the folder in errors ("cannot create the adapter folder").
    /// When `body` throws, nothing is changed and the temporary folder is removed.
    @discardableResult
    public static func write<T>(to directory: URL, what: String = "the folder", _ body: (URL) throws -> T) throws -> T {
        let target = directory.standardizedFileURL.resolvingSymlinksInPath()
        let fm = FileManager.default
        var isFolder: ObjCBool = false
        let exists = fm.fileExists(atPath: target.path, isDirectory: &isFolder)
        if exists && !isFolder.boolValue {
            throw FileSystemError("cannot write \(what)", path: directory.path, reason: "it is a file, not a folder")
        }
        let parent = target.deletingLastPathComponent()
        try FileSystemError.attempt("cannot create \(what)", path: directory.path) {
            try fm.createDirectory(at: parent, withIntermediateDirectories: true)
        }
        WriteTemporaries.removeStale(of: target)
        let staging = try makeFolder(beside: target, mode: exists ? mode(of: target) : nil, what: what)
        var finished = false
        defer { if !finished { try? fm.removeItem(at: staging) } }

        let result = try body(staging)
        if fm.fileExists(atPath: target.path) { try carryOver(from: target, to: staging, what: what) }
        syncFolder(staging)
        WriteTemporaries.step("\(target.lastPathComponent) staged in \(staging.lastPathComponent)")
        try swapIn(staging, for: target, what: what)
        finished = true
        syncFolder(parent)
        return result
    }

    /// A new empty sibling folder `.NAME.medrepl-tmp-PID-XXXXXX` (mode `mode`, else 0777 less the umask).
    private static func makeFolder(beside target: URL, mode: mode_t?, what: String) throws -> URL {
        while true {
            let url = target.deletingLastPathComponent().appendingPathComponent(WriteTemporaries.name(for: target.lastPathComponent, .tmp))
            if mkdir(url.path, 0o777) == 0 {
                if let mode { _ = chmod(url.path, mode) }
                return url
            }
            if errno != EEXIST { throw FileSystemError("cannot create a temporary folder for \(what)", path: url.path, errno: errno) }
        }
    }

    private static func mode(of url: URL) -> mode_t? {
        var st = stat()
        return lstat(url.path, &st) == 0 ? st.st_mode & 0o7777 : nil
    }

    /// Links (or copies) into `staging` every entry of `old` that `staging` lacks, folders entry by entry;
    /// what an interrupted write left in `old` stays behind.
    private static func carryOver(from old: URL, to staging: URL, what: String) throws {
        let fm = FileManager.default
        let entries = try FileSystemError.attempt("cannot list \(what)", path: old.path) { try fm.contentsOfDirectory(atPath: old.path) }
        for entry in entries where WriteTemporaries.staleTarget(entry) == nil {
            let source = old.appendingPathComponent(entry), destination = staging.appendingPathComponent(entry)
            var st = stat()
            guard lstat(destination.path, &st) != 0 else { continue }   // written anew
            guard lstat(source.path, &st) == 0 else { continue }        // gone meanwhile
            if st.st_mode & S_IFMT == S_IFDIR {
                guard mkdir(destination.path, st.st_mode & 0o7777) == 0 else {
                    throw FileSystemError("cannot carry over the folder \(entry) of \(what)", path: destination.path, errno: errno)
                }
                try carryOver(from: source, to: destination, what: what)
            } else if link(source.path, destination.path) != 0 {
                try FileSystemError.attempt("cannot carry over \(entry) of \(what)", path: destination.path) {
                    try fm.copyItem(at: source, to: destination)
                }
            }
        }
    }

    /// Puts `staging` at `target`: a rename when there is nothing there, else an atomic exchange (or, where the
    /// file system has none, the old folder renamed aside first), and the old folder removed.
    private static func swapIn(_ staging: URL, for target: URL, what: String) throws {
        if rename(staging.path, target.path) == 0 { return }   // no folder there: nothing to exchange
        guard errno == EEXIST || errno == ENOTEMPTY else {
            throw FileSystemError("cannot move \(what) into place", path: target.path, errno: errno)
        }
        if let exchange = renameExchange, exchange(AT_FDCWD, staging.path, AT_FDCWD, target.path, renameExchangeFlag) == 0 {
            WriteTemporaries.step("\(target.lastPathComponent) exchanged with the old folder, now at \(staging.lastPathComponent)")
            try? FileManager.default.removeItem(at: staging)   // the old folder, now under the temporary name
            return
        }
        let aside = target.deletingLastPathComponent().appendingPathComponent(WriteTemporaries.name(for: target.lastPathComponent, .old))
        guard rename(target.path, aside.path) == 0 else {
            throw FileSystemError("cannot move the old \(what) aside", path: target.path, errno: errno)
        }
        WriteTemporaries.step("old \(target.lastPathComponent) moved aside to \(aside.lastPathComponent)")
        guard rename(staging.path, target.path) == 0 else {
            let code = errno
            _ = rename(aside.path, target.path)
            throw FileSystemError("cannot move \(what) into place", path: target.path, errno: code)
        }
        WriteTemporaries.step("\(target.lastPathComponent) renamed into place")
        try? FileManager.default.removeItem(at: aside)
    }

    private static func syncFolder(_ url: URL) {
        let fd = open(url.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 { _ = fsync(fd); close(fd) }
    }

    /// Linux's `renameat2`, looked up at run time (Swift's Glibc module does not declare it; glibc has had it
    /// since 2.28); nil where it is missing, and then the rename-aside path is taken.
    private typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
    private static let renameExchange: RenameAt2? = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "renameat2") else { return nil }
        return unsafeBitCast(symbol, to: RenameAt2.self)
    }()
    /// `RENAME_EXCHANGE` from <linux/fs.h>.
    private static let renameExchangeFlag: UInt32 = 1 << 1
}

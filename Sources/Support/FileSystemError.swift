import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file-system operation that failed, said in plain words: what was being done, the path, and why
/// (`a parent of it (/tmp/x) is a file, not a folder`, `permission denied`, `disk full`), never
/// Foundation's "The operation could not be completed. (NSCocoaErrorDomain error 512.)".
///
/// Every reader and writer that calls FileManager, Data or POSIX file functions turns their errors
/// into one of these, so a message reads the same whoever failed.
///
/// ```swift
/// try FileSystemError.attempt("cannot create the adapter folder", path: dir.path) {
///     try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
/// }
/// // /tmp/afile/sub: cannot create the adapter folder: a parent of it (/tmp/afile) is a file, not a folder
/// guard fd >= 0 else { throw FileSystemError("cannot open", path: path, errno: errno) }
/// ```
public struct FileSystemError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// The path the operation was about.
    public var path: String
    /// What failed, e.g. "cannot create the adapter folder".
    public var operation: String
    /// Why, in plain words.
    public var reason: String

    public init(_ operation: String, path: String, reason: String) {
        self.operation = operation; self.path = path; self.reason = reason
    }

    /// From a Foundation or POSIX error thrown while doing `operation` on `path`.
    public init(_ operation: String, path: String, error: Error) {
        self.init(operation, path: path, reason: Self.reason(for: error, path: path))
    }

    /// From an `errno` value set by a failed C call on `path`.
    public init(_ operation: String, path: String, errno code: Int32) {
        self.init(operation, path: path, reason: Self.reason(errno: code, path: path))
    }

    public var description: String { "\(path): \(operation): \(reason)" }
    public var errorDescription: String? { description }

    /// Runs `body` (Foundation or POSIX file calls); an error it throws becomes a `FileSystemError`, and one
    /// that already is one passes through unchanged.
    public static func attempt<T>(_ operation: String, path: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as FileSystemError { throw error } catch {
            throw FileSystemError(operation, path: path, error: error)
        }
    }

    /// Any error as a person should read it: medrepl's own errors as they describe themselves; a Foundation
    /// or POSIX file error that reached the user without its path as its plain reason, never
    /// "The operation could not be completed. (NSCocoaErrorDomain error 4.)".
    ///
    /// ```swift
    /// FileSystemError.plainDescription(of: CocoaError(.fileNoSuchFile))   // "no such file or folder"
    /// ```
    public static func plainDescription(of error: Error) -> String {
        let domain = (error as NSError).domain
        guard error is CocoaError || error is POSIXError || domain == NSCocoaErrorDomain || domain == NSPOSIXErrorDomain else {
            return "\(error)"
        }
        return reason(for: error, path: "")
    }

    /// The reason for a Foundation/POSIX error, in plain words (`path`: the file it was about, or "").
    public static func reason(for error: Error, path: String) -> String {
        if let code = errnoCode(of: error) { return reason(errno: code, path: path) }
        if let cocoa = error as? CocoaError {
            switch cocoa.code {
            case .fileNoSuchFile, .fileReadNoSuchFile: return reason(errno: ENOENT, path: path)
            case .fileReadNoPermission, .fileWriteNoPermission: return reason(errno: EACCES, path: path)
            case .fileWriteOutOfSpace: return reason(errno: ENOSPC, path: path)
            case .fileWriteVolumeReadOnly: return reason(errno: EROFS, path: path)
            case .fileWriteFileExists: return reason(errno: EEXIST, path: path)
            case .fileReadCorruptFile: return "the file is damaged or not in the expected format"
            case .fileReadInapplicableStringEncoding, .fileWriteInapplicableStringEncoding: return "the text is not valid UTF-8"
            case .fileReadTooLarge: return "the file is too large to read"
            default: break
            }
        }
        // No errno and no known code: say what the file system shows.
        if let parent = fileAncestor(of: path) { return "a parent of it (\(parent)) is a file, not a folder" }
        return "the file operation failed (code \((error as NSError).code))"
    }

    /// The reason for an `errno` value, in plain words.
    public static func reason(errno code: Int32, path: String) -> String {
        if code == ENOTDIR || code == EEXIST || code == ENOENT, let parent = fileAncestor(of: path) {
            return "a parent of it (\(parent)) is a file, not a folder"
        }
        switch code {
        case ENOTDIR: return "a parent of it is not a folder"
        case ENOENT:
            if let missing = missingAncestor(of: path) { return "the folder \(missing) does not exist" }
            return "no such file or folder"
        case EACCES, EPERM: return "permission denied"
        case ENOSPC: return "disk full"
        case EDQUOT: return "disk quota exceeded"
        case EROFS: return "the file system is read-only"
        case EEXIST: return "it already exists"
        case EISDIR: return "it is a folder, not a file"
        case ENAMETOOLONG: return "the name is too long"
        case EMFILE, ENFILE: return "too many open files"
        case EIO: return "input/output error (a failing disk?)"
        case ENOMEM: return "not enough memory"
        default: return String(cString: strerror(code)).lowercased()
        }
    }

    /// The `errno` behind a Foundation error, when it carries one.
    static func errnoCode(of error: Error) -> Int32? {
        if let posix = error as? POSIXError { return posix.code.rawValue }
        let ns = error as NSError
        if ns.domain == NSPOSIXErrorDomain { return Int32(ns.code) }
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? Error { return errnoCode(of: underlying) }
        return nil
    }

    /// The nearest existing ancestor of `path` that is a regular file (what makes "a parent is a file").
    static func fileAncestor(of path: String) -> String? {
        if path.isEmpty { return nil }
        var url = URL(fileURLWithPath: path).standardizedFileURL.deletingLastPathComponent()
        while url.path != "/" && !url.path.isEmpty {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) {
                return isDirectory.boolValue ? nil : url.path
            }
            url = url.deletingLastPathComponent()
        }
        return nil
    }

    /// The outermost missing folder above `path`, when its parent folder is missing.
    static func missingAncestor(of path: String) -> String? {
        if path.isEmpty { return nil }
        var url = URL(fileURLWithPath: path).standardizedFileURL.deletingLastPathComponent()
        var missing: String? = nil
        while url.path != "/" && !url.path.isEmpty && !FileManager.default.fileExists(atPath: url.path) {
            missing = url.path
            url = url.deletingLastPathComponent()
        }
        return missing
    }
}

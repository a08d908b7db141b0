import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes files so that readers see either the old content or the complete new one, never a half:
/// a temporary file in the same folder (`.NAME.medrepl-tmp-PID-XXXXXX`), `fsync`, then `rename` over the
/// target (and `fsync` of the folder). Each write first removes what an interrupted write of the same file
/// left (`WriteTemporaries`). A folder of several files is written with `AtomicFolder`.
///
/// ```swift
/// try AtomicFile.write(data, to: URL(fileURLWithPath: "adapter_model.safetensors"))
/// try AtomicFile.write(Data("hf_...".utf8), to: tokenURL, permissions: 0o600)
/// ```
public enum AtomicFile {
    /// Writes `data` to `url` atomically with the given permission bits (default rw-r--r--).
    public static func write(_ data: Data, to url: URL, permissions: mode_t = 0o644) throws {
        try write(to: url, permissions: permissions) { fd in
            try data.withUnsafeBytes { raw in try writeAll(fd, raw, path: url.path) }
        }
    }

    /// Writes `data` to the file at `path` atomically.
    public static func write(_ data: Data, to path: String, permissions: mode_t = 0o644) throws {
        try write(data, to: URL(fileURLWithPath: path), permissions: permissions)
    }

    /// Writes UTF-8 `text` to the file at `path` atomically.
    public static func write(_ text: String, to path: String, permissions: mode_t = 0o644) throws {
        try write(Data(text.utf8), to: URL(fileURLWithPath: path), permissions: permissions)
    }

    /// Calls `body` with the descriptor of a fresh temporary file beside `url`; when it returns, the
    /// file is synced and renamed onto `url`. On any error the temporary file is removed.
    public static func write(to url: URL, permissions: mode_t = 0o644, _ body: (Int32) throws -> Void) throws {
        let directory = url.deletingLastPathComponent()
        WriteTemporaries.removeStale(of: url)
        var template = Array(directory.appendingPathComponent(WriteTemporaries.fileTemplate(for: url.lastPathComponent)).path.utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw FileSystemError("cannot create a temporary file in \(directory.path)", path: url.path, errno: errno)
        }
        let tempPath = String(cString: template)
        var done = false
        defer {
            if !done { unlink(tempPath) }
        }
        do {
            defer { close(fd) }
            guard fchmod(fd, permissions) == 0 else {
                throw FileSystemError("cannot set permissions", path: url.path, errno: errno)
            }
            try body(fd)
            guard fsync(fd) == 0 else {
                throw FileSystemError("cannot flush the file to disk", path: url.path, errno: errno)
            }
        }
        WriteTemporaries.step("\(url.lastPathComponent) written to its temporary name")
        guard rename(tempPath, url.path) == 0 else {
            throw FileSystemError("cannot rename the temporary file into place", path: url.path, errno: errno)
        }
        done = true
        WriteTemporaries.step("\(url.lastPathComponent) renamed into place")
        let dfd = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
    }

    /// Writes every byte of `raw` to `fd`, retrying short writes and EINTR.
    public static func writeAll(_ fd: Int32, _ raw: UnsafeRawBufferPointer, path: String) throws {
        var offset = 0
        while offset < raw.count {
            let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileSystemError("cannot write", path: path, errno: errno)
            }
            offset += n
        }
    }
}

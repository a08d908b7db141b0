import Foundation
import Support
#if canImport(Glibc)
import Glibc
#endif

/// A read-only, memory-mapped file. Tensor readers hand out pointers into it instead of copying,
/// so a multi-gigabyte checkpoint costs page cache, not heap.
///
/// Every read is bounds-checked and throws a `WeightsError` naming the file and the field being read.
///
/// ```swift
/// let file = try MappedFile(url: URL(fileURLWithPath: "model.safetensors"))
/// let headerLength = try file.readLE(UInt64.self, at: 0, field: "header length")
/// ```
public final class MappedFile: @unchecked Sendable {
    public let url: URL
    /// Size of the file in bytes.
    public let count: Int
    /// Start of the mapping; nil for an empty file (nothing to map).
    public let base: UnsafeRawPointer?

    /// The file's name, as errors print it.
    public var name: String { url.lastPathComponent }

    public init(url: URL) throws {
        self.url = url
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw WeightsError(file: url.path, "cannot open: \(FileSystemError.reason(errno: errno, path: url.path))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw WeightsError(file: url.path, "cannot stat: \(FileSystemError.reason(errno: errno, path: url.path))")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            let what = (st.st_mode & S_IFMT) == S_IFDIR ? "it is a folder, not a file" : "it is not a regular file"
            throw WeightsError(file: url.path, "cannot read: \(what)")
        }
        count = Int(st.st_size)
        if count == 0 {
            base = nil
            return
        }
        let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else {
            throw WeightsError(file: url.path, "cannot memory-map \(count) bytes: \(FileSystemError.reason(errno: errno, path: url.path))")
        }
        base = UnsafeRawPointer(p)
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }

    /// Hands the whole pages of `bytes` (a range of this mapping) back to the OS: a reader done with a
    /// tensor it copied calls this, so a load's resident memory is the copies, not the copies plus the file.
    /// Reading them again is still correct (the pages come back from the file), only slower.
    public func release(_ bytes: UnsafeRawBufferPointer) {
        guard let base, let start = bytes.baseAddress, bytes.count > 0 else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let from = (start - base + page - 1) / page * page, to = (start - base + bytes.count) / page * page
        guard from >= 0, to <= count, from < to else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base + from), to - from, Int32(MADV_DONTNEED))
    }

    /// Throws unless `[offset, offset + length)` lies inside the file.
    @inline(__always)
    public func check(_ offset: Int, _ length: Int, field: String) throws {
        guard offset >= 0, length >= 0, offset <= count, length <= count - offset else {
            throw WeightsError(file: name, field: field,
                               "truncated: needs bytes [\(offset), \(offset &+ length)) but the file has \(count) bytes")
        }
    }

    /// A pointer to `length` bytes at `offset`, after a bounds check.
    public func bytes(at offset: Int, length: Int, field: String) throws -> UnsafeRawBufferPointer {
        try check(offset, length, field: field)
        guard let base else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base + offset, count: length)
    }

    /// A little-endian integer at `offset` (unaligned reads are fine).
    public func readLE<T: FixedWidthInteger>(_ type: T.Type, at offset: Int, field: String) throws -> T {
        try check(offset, MemoryLayout<T>.size, field: field)
        return T(littleEndian: base!.loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

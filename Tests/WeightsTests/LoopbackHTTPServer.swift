import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A tiny HTTP/1.1 server on 127.0.0.1 (random port) for the download tests: serves in-memory files
/// by path, honours `Range: bytes=N-`, can demand a bearer token, and can cut a response short once
/// (to test resuming). One thread per connection; every response closes its connection.
final class LoopbackHTTPServer: @unchecked Sendable {
    struct Request { let path: String; let headers: [String: String] }

    private let lock = NSLock()
    private var files: [String: Data] = [:]
    private var cutOnce: [String: Int] = [:]
    private var _requests: [Request] = []
    private let listener: Int32
    let port: UInt16
    /// When set, requests without `Authorization: Bearer <token>` get 401.
    var requiredToken: String?
    /// Sent as `X-Repo-Commit` on every 200/206.
    var commit = "0123456789abcdef0123456789abcdef01234567"

    var baseURL: String { "http://127.0.0.1:\(port)" }

    var requests: [Request] { lock.lock(); defer { lock.unlock() }; return _requests }

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { close(fd); throw POSIXError(.EADDRINUSE) }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        listener = fd
        port = UInt16(bigEndian: addr.sin_port)
        let thread = Thread { [weak self] in
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 { return }      // listener closed
                guard let self else { close(client); return }
                Thread { self.handle(client) }.start()
            }
        }
        thread.start()
    }

    deinit {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// Serves `data` at `path` (e.g. `/ORG/NAME/resolve/main/config.json`).
    func serve(_ path: String, _ data: Data) { lock.lock(); files[path] = data; lock.unlock() }

    /// The next response for `path` sends only its first `bytes` body bytes, then closes.
    func cutNextResponse(_ path: String, after bytes: Int) { lock.lock(); cutOnce[path] = bytes; lock.unlock() }

    private func handle(_ fd: Int32) {
        defer { close(fd) }
        var buffer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !buffer.containsHeaderEnd {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { return }
            buffer.append(contentsOf: chunk[0..<n])
        }
        let text = String(decoding: buffer, as: UTF8.self)
        let lines = text.components(separatedBy: "\r\n")
        let requestLine = lines[0].split(separator: " ")
        guard requestLine.count >= 2 else { return }
        let path = String(requestLine[1])
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        lock.lock()
        _requests.append(Request(path: path, headers: headers))
        let file = files[path]
        let cut = cutOnce.removeValue(forKey: path)
        lock.unlock()

        if let token = requiredToken, headers["authorization"] != "Bearer \(token)" {
            return respond(fd, status: "401 Unauthorized", headers: [:], body: Data("Invalid credentials".utf8))
        }
        guard let file else { return respond(fd, status: "404 Not Found", headers: [:], body: Data("Entry not found".utf8)) }
        var start = 0
        if let range = headers["range"], range.hasPrefix("bytes="), range.hasSuffix("-"),
           let s = Int(range.dropFirst(6).dropLast()) {
            guard s < file.count else {
                return respond(fd, status: "416 Range Not Satisfiable", headers: ["Content-Range": "bytes */\(file.count)"], body: Data())
            }
            start = s
        }
        var extra = ["X-Repo-Commit": commit]
        if start > 0 { extra["Content-Range"] = "bytes \(start)-\(file.count - 1)/\(file.count)" }
        let body = file.subdata(in: start..<file.count)
        respond(fd, status: start > 0 ? "206 Partial Content" : "200 OK", headers: extra, body: body, sendOnly: cut)
    }

    private func respond(_ fd: Int32, status: String, headers: [String: String], body: Data, sendOnly: Int? = nil) {
        var head = "HTTP/1.1 \(status)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        head += "\r\n"
        var out = Data(head.utf8)
        out.append(body.prefix(sendOnly ?? body.count))
        out.withUnsafeBytes { raw in
            var sent = 0
            while sent < raw.count {
                let n = send(fd, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
                if n <= 0 { return }
                sent += n
            }
        }
    }
}

private extension Array where Element == UInt8 {
    var containsHeaderEnd: Bool {
        guard count >= 4 else { return false }
        for i in 0...(count - 4) where self[i] == 13 && self[i + 1] == 10 && self[i + 2] == 13 && self[i + 3] == 10 { return true }
        return false
    }
}

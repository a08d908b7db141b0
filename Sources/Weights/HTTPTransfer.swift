import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Support

/// One HTTP GET streamed into a `.incomplete` file, resuming from its current size with a `Range`
/// request. Synchronous: `run()` returns when the transfer ends.
struct HTTPTransfer {
    let url: URL
    let partial: URL
    let token: HubToken?
    let timeout: TimeInterval
    let label: String
    let showProgress: Bool

    init(url: URL, partial: URL, token: HubToken?, timeout: TimeInterval, label: String, showProgress: Bool) {
        self.url = url; self.partial = partial; self.token = token
        self.timeout = timeout; self.label = label; self.showProgress = showProgress
    }

    /// The HTTP status (200/206 mean the partial file is now complete) and the `X-Repo-Commit` header.
    func run() throws -> (status: Int, commit: String?) {
        let existing = (try? FileManager.default.attributesOfItem(atPath: partial.path)[.size] as? NSNumber)?.int64Value ?? 0
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.setValue("medrepl", forHTTPHeaderField: "User-Agent")
        if let token { request.setValue("Bearer \(token.value)", forHTTPHeaderField: "Authorization") }
        if existing > 0 { request.setValue("bytes=\(existing)-", forHTTPHeaderField: "Range") }

        let delegate = TransferDelegate(partial: partial, offset: existing, label: label, showProgress: showProgress)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let session = URLSession(configuration: configuration, delegate: delegate, delegateQueue: queue)
        session.dataTask(with: request).resume()
        delegate.done.wait()
        session.finishTasksAndInvalidate()
        try? delegate.handle?.synchronize()
        try? delegate.handle?.close()
        if let bar = delegate.bar {
            if delegate.error == nil && delegate.failure == nil { bar.update(bar.total) }
            bar.finish()
        }

        if let failure = delegate.failure { throw failure }
        if let error = delegate.error, delegate.status == 200 || delegate.status == 206 || delegate.status == 0 {
            throw networkError(error, received: delegate.received + (delegate.status == 206 ? existing : 0))
        }
        if delegate.status == 200 || delegate.status == 206 {
            let size = (try? FileManager.default.attributesOfItem(atPath: partial.path)[.size] as? NSNumber)?.int64Value ?? -1
            if let total = delegate.total, size != total {
                throw WeightsError(file: url.absoluteString,
                                   "download incomplete (\(size) of \(total) bytes; the connection closed early): run the same command again to resume")
            }
        }
        return (delegate.status, delegate.commit)
    }

    func networkError(_ error: Error, received: Int64) -> WeightsError {
        let urlError = error as? URLError
        let reason = urlError.map { Self.plainReason($0.code) } ?? FileSystemError.reason(for: error, path: partial.path)
        let unreachable: Set<URLError.Code> = [.notConnectedToInternet, .cannotFindHost, .cannotConnectToHost,
                                               .dnsLookupFailed, .timedOut, .networkConnectionLost, .secureConnectionFailed]
        if received > 0 {
            return WeightsError(file: url.absoluteString,
                                "download interrupted after \(received) bytes (\(reason)); the partial file is kept: run the same command again to resume")
        }
        if let code = urlError?.code, unreachable.contains(code) {
            let host = url.host ?? url.absoluteString
            return WeightsError(file: url.absoluteString,
                                "cannot reach \(host) (\(reason)): check the network connection (or HF_ENDPOINT); to work offline set HF_HUB_OFFLINE=1 and give a local folder or .gguf file")
        }
        return WeightsError(file: url.absoluteString, "request failed: \(reason)")
    }

    /// A network failure in plain words (URLError's own texts are Foundation's).
    static func plainReason(_ code: URLError.Code) -> String {
        switch code {
        case .cannotFindHost, .dnsLookupFailed: return "the host name could not be resolved"
        case .cannotConnectToHost: return "the connection was refused"
        case .notConnectedToInternet: return "no network connection"
        case .timedOut: return "no answer in time"
        case .networkConnectionLost: return "the connection was lost"
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
             .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot: return "the secure (TLS) connection failed"
        case .badURL, .unsupportedURL: return "the address is not a valid http(s) URL"
        case .cancelled: return "cancelled"
        default: return "network error \(code.rawValue)"
        }
    }
}

/// Receives one transfer's events on the session's serial queue.
final class TransferDelegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let partial: URL
    let offset: Int64
    let label: String
    let showProgress: Bool
    let done = DispatchSemaphore(value: 0)
    var handle: FileHandle?
    var status = 0
    var commit: String?
    /// Bytes written by this transfer.
    var received: Int64 = 0
    /// Full size of the file when the server said it.
    var total: Int64?
    var error: Error?
    /// A local failure (disk, bad `Content-Range`), reported instead of the network error it causes.
    var failure: WeightsError?
    var bar: ProgressBar?

    init(partial: URL, offset: Int64, label: String, showProgress: Bool) {
        self.partial = partial; self.offset = offset; self.label = label; self.showProgress = showProgress
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        guard let http = response as? HTTPURLResponse else { completionHandler(.cancel); return }
        status = http.statusCode
        commit = http.value(forHTTPHeaderField: "X-Repo-Commit")
        let length = http.expectedContentLength
        switch status {
        case 200:
            // Whole file: whatever the partial held is discarded.
            total = length >= 0 ? length : nil
            open(truncate: true)
        case 206:
            // Content-Range: bytes START-END/TOTAL; START must be where our partial ends.
            let range = http.value(forHTTPHeaderField: "Content-Range") ?? ""
            let numbers = range.split(whereSeparator: { !$0.isNumber }).compactMap { Int64($0) }
            guard numbers.count == 3, numbers[0] == offset else {
                failure = WeightsError(file: dataTask.originalRequest?.url?.absoluteString ?? label,
                                       "server answered a resume request with Content-Range \"\(range)\" (expected to start at \(offset))")
                completionHandler(.cancel)
                return
            }
            total = numbers[2]
            open(truncate: false)
        default:
            completionHandler(.cancel)
            return
        }
        // Small files (configs, tokenizers) get no bar; weights get one counted in MiB, over the bytes still
        // to come, so that its rate and ETA are this transfer's.
        if showProgress, let total, total - offset >= 1 << 20 {
            let label = offset > 0 ? "\(self.label) (resuming after \(formatBytes(Int(offset))))" : self.label
            bar = ProgressBar(total: Int(mebibytes(total - offset)), label: label, unit: "MiB")
        }
        completionHandler(failure == nil ? .allow : .cancel)
    }

    /// Whole MiB, rounded up so that a finished file shows total/total.
    func mebibytes(_ bytes: Int64) -> Int64 { (bytes + (1 << 20) - 1) >> 20 }

    func open(truncate: Bool) {
        let fm = FileManager.default
        if truncate || !fm.fileExists(atPath: partial.path) {
            guard fm.createFile(atPath: partial.path, contents: nil) else {
                failure = WeightsError(file: partial.path, "cannot create the download file")
                return
            }
        }
        do {
            let h = try FileHandle(forWritingTo: partial)
            try h.seekToEnd()
            handle = h
        } catch {
            failure = WeightsError(file: partial.path, "cannot open the download file: \(FileSystemError.reason(for: error, path: partial.path))")
        }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard failure == nil, let handle else { return }
        do {
            try handle.write(contentsOf: data)
        } catch {
            failure = WeightsError(file: partial.path, "cannot write the download: \(FileSystemError.reason(for: error, path: partial.path))")
            dataTask.cancel()
            return
        }
        received += Int64(data.count)
        bar?.update(Int(received >> 20))
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        self.error = error
        done.signal()
    }
}

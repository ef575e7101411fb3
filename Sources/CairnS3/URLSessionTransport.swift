import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `HTTPTransport` over Foundation's URLSession (libcurl on Linux): no
/// dependency to build, connection reuse per host, and a cap on connections.
/// See Docs/s3.md for the measurement behind choosing it.
public final class URLSessionTransport: HTTPTransport {
    private let session: URLSession
    private let reuseConnectionsForUploads: Bool
    private let timeout: TimeInterval

    /// - Parameters:
    ///   - connections: the most connections kept to one host.
    ///   - timeout: seconds without progress before a request fails (a transient error).
    ///   - reuseConnectionsForUploads: keep-alive for PUT/POST too (faster on a clean network,
    ///     but a reset connection can stall an upload until `timeout`).
    public init(connections: Int = 8, timeout: TimeInterval = 60, reuseConnectionsForUploads: Bool = false) {
        self.reuseConnectionsForUploads = reuseConnectionsForUploads
        self.timeout = timeout
        let config = URLSessionConfiguration.ephemeral
        config.httpMaximumConnectionsPerHost = max(1, connections)
        config.timeoutIntervalForRequest = timeout
        config.timeoutIntervalForResource = max(timeout, 3600)
        config.requestCachePolicy = .reloadIgnoringLocalAndRemoteCacheData
        config.urlCache = nil
        config.httpCookieStorage = nil
        config.httpShouldSetCookies = false
        session = URLSession(configuration: config)
    }

    deinit { session.finishTasksAndInvalidate() }

    /// Runs one data task. Besides URLSession's own inactivity timeout, a
    /// watchdog cancels a task whose completion never arrives (seen on Linux
    /// after connection resets, Docs/s3.md), so a request always ends.
    private func perform(_ r: URLRequest, watchdog seconds: Double) async throws -> (Data, URLResponse) {
        let outcome = Outcome()
        let task = session.dataTask(with: r) { data, response, error in
            if let error { outcome.finish(.failure(HTTPTransportError((error as NSError).localizedDescription))); return }
            guard let response else { outcome.finish(.failure(HTTPTransportError("no response"))); return }
            outcome.finish(.success((data ?? Data(), response)))
        }
        let watchdog = Task {
            try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
            outcome.finish(.failure(HTTPTransportError("no answer within \(Int(seconds)) s")))
            task.cancel()
        }
        defer { watchdog.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { c in
                outcome.wait(c)
                task.resume()
            }
        } onCancel: {
            outcome.finish(.failure(HTTPTransportError("cancelled")))
            task.cancel()
        }
    }

    /// The one result of a task, delivered once to whoever waits.
    private final class Outcome: @unchecked Sendable {
        private let lock = NSLock()
        private var result: Result<(Data, URLResponse), any Error>?
        private var waiter: CheckedContinuation<(Data, URLResponse), any Error>?
        private var delivered = false

        func finish(_ r: Result<(Data, URLResponse), any Error>) {
            lock.lock()
            guard result == nil else { lock.unlock(); return }
            result = r
            let w = waiter; if w != nil { delivered = true }
            lock.unlock()
            w?.resume(with: r)
        }

        func wait(_ c: CheckedContinuation<(Data, URLResponse), any Error>) {
            lock.lock()
            if let result, !delivered { delivered = true; lock.unlock(); c.resume(with: result); return }
            waiter = c
            lock.unlock()
        }
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard let url = URL(string: request.url) else { throw HTTPTransportError("not a valid URL: \(request.url)") }
        var r = URLRequest(url: url)
        r.httpMethod = request.method
        for (name, value) in request.headers where name.lowercased() != "host" { r.setValue(value, forHTTPHeaderField: name) }
        if !request.body.isEmpty || request.method == "PUT" || request.method == "POST" {
            r.httpBody = Data(request.body)
            // libcurl would label the body application/x-www-form-urlencoded, and some
            // servers (moto's Flask) then parse it as a form and lose it.
            if r.value(forHTTPHeaderField: "Content-Type") == nil { r.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type") }
            // An upload on a reused connection that the peer resets makes libcurl retry
            // it internally, and that retry can stall until the timeout (measured: see
            // Docs/s3.md). Uploads therefore get a connection of their own; reads keep
            // the pool.
            if !reuseConnectionsForUploads { r.setValue("close", forHTTPHeaderField: "Connection") }
        }
        let (data, response) = try await perform(r, watchdog: timeout * 2 + Double(request.body.count) / 65_536)
        guard let http = response as? HTTPURLResponse else { throw HTTPTransportError("not an HTTP response") }
        var headers: [String: String] = [:]
        for (k, v) in http.allHeaderFields {
            if let k = k as? String, let v = v as? String { headers[k.lowercased()] = v }
        }
        return HTTPResponse(status: http.statusCode, headers: headers, body: [UInt8](data))
    }
}

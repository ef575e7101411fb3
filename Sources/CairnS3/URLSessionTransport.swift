import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `HTTPTransport` over Foundation's URLSession (libcurl on Linux): no
/// dependency to build, connection reuse per host, and a cap on connections.
/// See Docs/s3.md for the measurement behind choosing it.
public final class URLSessionTransport: HTTPTransport {
    private let session: URLSession
    private let receiver = BodyReceiver()
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
        // Bodies arrive through the delegate, piece by piece, in order: one queue, one at a time.
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        session = URLSession(configuration: config, delegate: receiver, delegateQueue: queue)
    }

    deinit { session.finishTasksAndInvalidate() }

    /// Runs one data task. Besides URLSession's own inactivity timeout, a
    /// watchdog cancels a task whose completion never arrives (seen on Linux
    /// after connection resets, Docs/s3.md), so a request always ends.
    ///
    /// The body is appended to one array as it arrives (`BodyReceiver`)
    /// rather than collected by URLSession and copied twice more (its buffer,
    /// its `Data`, then an array): those copies and the fresh pages they touch
    /// were a large part of a restore's CPU (Docs/performance.md, issue 16.6).
    private func perform(_ r: URLRequest, watchdog seconds: Double) async throws -> (body: [UInt8], response: URLResponse) {
        let exchange = Exchange()
        let task = session.dataTask(with: r)
        receiver.register(exchange, for: task)
        let watchdog = Task {
            try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
            exchange.finish(.failure(HTTPTransportError("no answer within \(Int(seconds)) s")))
            task.cancel()
        }
        defer { watchdog.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { c in
                exchange.wait(c)
                task.resume()
            }
        } onCancel: {
            exchange.finish(.failure(HTTPTransportError("cancelled")))
            task.cancel()
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
        let (body, response) = try await perform(r, watchdog: timeout * 2 + Double(request.body.count) / 65_536)
        guard let http = response as? HTTPURLResponse else { throw HTTPTransportError("not an HTTP response") }
        var headers: [String: String] = [:]
        for (k, v) in http.allHeaderFields {
            if let k = k as? String, let v = v as? String { headers[k.lowercased()] = v }
        }
        return HTTPResponse(status: http.statusCode, headers: headers, body: body)
    }
}

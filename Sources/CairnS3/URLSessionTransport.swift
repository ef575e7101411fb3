import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `HTTPTransport` over Foundation's URLSession (libcurl on Linux): no
/// dependency to build, connection reuse per host, and a cap on connections.
/// See Docs/s3.md for the measurement behind choosing it.
public final class URLSessionTransport: HTTPTransport {
    private let session: URLSession

    /// - Parameters:
    ///   - connections: the most connections kept to one host.
    ///   - timeout: seconds without progress before a request fails (a transient error).
    public init(connections: Int = 8, timeout: TimeInterval = 120) {
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
        }
        let (data, response): (Data, URLResponse)
        do {
            (data, response) = try await withCheckedThrowingContinuation { (c: CheckedContinuation<(Data, URLResponse), any Error>) in
                let task = session.dataTask(with: r) { data, response, error in
                    if let error { c.resume(throwing: error); return }
                    guard let response else { c.resume(throwing: HTTPTransportError("no response")); return }
                    c.resume(returning: (data ?? Data(), response))
                }
                task.resume()
            }
        } catch let e as HTTPTransportError {
            throw e
        } catch {
            throw HTTPTransportError((error as NSError).localizedDescription)
        }
        guard let http = response as? HTTPURLResponse else { throw HTTPTransportError("not an HTTP response") }
        var headers: [String: String] = [:]
        for (k, v) in http.allHeaderFields {
            if let k = k as? String, let v = v as? String { headers[k.lowercased()] = v }
        }
        return HTTPResponse(status: http.statusCode, headers: headers, body: [UInt8](data))
    }
}

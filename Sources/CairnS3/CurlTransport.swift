import CairnStorage
import CCurl
import Foundation
import Synchronization

/// `HTTPTransport` that sends requests without a body (GET, HEAD, DELETE:
/// every read of a restore) through libcurl's easy interface on threads of
/// its own, and hands uploads to `uploads` (URLSession, whose upload
/// mitigations Docs/s3.md describes).
///
/// URLSession on Linux runs libcurl too, but delivers each piece of a body
/// (16 KiB at most) as a fresh `Data` through an operation queue and
/// re-arms a dispatch timer per piece: a profile of a restore from moto
/// put a third of its CPU there (Docs/performance.md, issue 16.6). Here
/// libcurl reads up to `bufferSize` at a time and appends straight into
/// the response's array, on the thread that waits for it.
public final class CurlTransport: HTTPTransport {
    private let uploads: any HTTPTransport
    private let threads: BlockingThreads
    private let idle = Mutex<[EasyHandle]>([])
    private let timeout: Int

    /// Bytes libcurl reads from the socket at a time (its maximum is 10 MiB).
    static let bufferSize = 512 << 10
    /// Capacity reserved up front from a declared Content-Length at most (a
    /// larger body still arrives, growing as it comes): a hostile header
    /// never makes a large allocation by itself.
    static let reserveLimit = 64 << 20

    /// An easy handle (one connection cache), used by one request at a time.
    private struct EasyHandle: @unchecked Sendable { let raw: UnsafeMutableRawPointer }

    private static let globalInit: CURLcode = cairn_curl_global_init()

    /// - Parameters:
    ///   - connections: requests sent at once at most (the client's cap).
    ///   - timeout: seconds to connect, and seconds without a byte before a request fails.
    ///   - uploads: the transport for requests with a body (PUT, POST).
    public init(connections: Int = 8, timeout: TimeInterval = 60, uploads: any HTTPTransport) {
        _ = Self.globalInit
        self.uploads = uploads
        self.timeout = max(1, Int(timeout.rounded(.up)))
        threads = BlockingThreads(threads: max(1, connections), label: "cairn.s3.http")
    }

    deinit {
        for h in idle.withLock({ $0 }) { curl_easy_cleanup(h.raw) }
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard request.body.isEmpty, ["GET", "HEAD", "DELETE"].contains(request.method) else {
            return try await uploads.send(request)
        }
        let call = Call(head: request.method == "HEAD")
        return try await withTaskCancellationHandler {
            try await threads.run { try self.perform(request, call) }
        } onCancel: {
            call.cancelled.store(true, ordering: .relaxed)
        }
    }

    /// Runs one request to its end on the calling thread.
    private func perform(_ request: HTTPRequest, _ call: Call) throws -> HTTPResponse {
        guard let handle = idle.withLock({ $0.popLast() }) ?? curl_easy_init().map(EasyHandle.init) else {
            throw HTTPTransportError("libcurl could not start a request")
        }
        defer { idle.withLock { $0.append(handle) } }
        let h = handle.raw
        // Options reset, connections kept.
        curl_easy_reset(h)
        var list: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(list) }
        for (name, value) in request.headers where name.lowercased() != "host" {
            list = curl_slist_append(list, "\(name): \(value)")
        }
        var ok = request.url.withCString { cairn_curl_set_pointer(h, CURLOPT_URL, $0) } == CURLE_OK
        ok = ok && cairn_curl_set_pointer(h, CURLOPT_HTTPHEADER, list) == CURLE_OK
        if request.method == "HEAD" {
            ok = ok && cairn_curl_set_long(h, CURLOPT_NOBODY, 1) == CURLE_OK
        } else if request.method != "GET" {
            ok = ok && request.method.withCString { cairn_curl_set_pointer(h, CURLOPT_CUSTOMREQUEST, $0) } == CURLE_OK
        }
        ok = ok && configure(h, call)
        guard ok else { throw HTTPTransportError("libcurl refused an option for \(request.method)") }
        let code = curl_easy_perform(h)
        if call.cancelled.load(ordering: .relaxed) { throw HTTPTransportError("cancelled") }
        guard code == CURLE_OK else { throw HTTPTransportError(String(cString: curl_easy_strerror(code))) }
        return HTTPResponse(status: cairn_curl_response_code(h), headers: call.headers, body: call.body)
    }

    /// The options every request has: no signals (threads), HTTP/1.1, the
    /// timeouts, and the callbacks that fill `call`.
    private func configure(_ h: UnsafeMutableRawPointer, _ call: Call) -> Bool {
        let context = UnsafeRawPointer(Unmanaged.passUnretained(call).toOpaque())
        let longs: [(CURLoption, Int)] = [
            (CURLOPT_NOSIGNAL, 1),
            (CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1)),
            (CURLOPT_BUFFERSIZE, Self.bufferSize),
            (CURLOPT_CONNECTTIMEOUT, timeout),
            // Fewer than 1 byte a second for `timeout` seconds: the request fails (a transient error).
            (CURLOPT_LOW_SPEED_LIMIT, 1),
            (CURLOPT_LOW_SPEED_TIME, timeout),
            // The whole request, as URLSession's watchdog bounded a request without a body.
            (CURLOPT_TIMEOUT, 2 * timeout),
            (CURLOPT_NOPROGRESS, 0),
        ]
        for (option, value) in longs where cairn_curl_set_long(h, option, value) != CURLE_OK { return false }
        let pointers: [(CURLoption, UnsafeRawPointer)] = [(CURLOPT_WRITEDATA, context), (CURLOPT_HEADERDATA, context), (CURLOPT_XFERINFODATA, context)]
        for (option, value) in pointers where cairn_curl_set_pointer(h, option, value) != CURLE_OK { return false }
        return cairn_curl_set_data_callback(h, CURLOPT_WRITEFUNCTION, { data, size, count, context in
            guard let data, let context else { return 0 }
            let call = Unmanaged<Call>.fromOpaque(context).takeUnretainedValue()
            guard !call.cancelled.load(ordering: .relaxed) else { return 0 }
            call.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        }) == CURLE_OK && cairn_curl_set_data_callback(h, CURLOPT_HEADERFUNCTION, { data, size, count, context in
            guard let data, let context else { return 0 }
            Unmanaged<Call>.fromOpaque(context).takeUnretainedValue().header(UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        }) == CURLE_OK && cairn_curl_set_progress_callback(h, { context, _, _, _, _ in
            guard let context else { return 1 }
            return Unmanaged<Call>.fromOpaque(context).takeUnretainedValue().cancelled.load(ordering: .relaxed) ? 1 : 0
        }) == CURLE_OK
    }

    /// One request's response as libcurl delivers it, on the thread running it.
    final class Call: @unchecked Sendable {
        let head: Bool
        var headers: [String: String] = [:]
        var body: [UInt8] = []
        let cancelled = Atomic<Bool>(false)

        init(head: Bool) { self.head = head }

        /// One header line; a status line starts the headers of another response (after a 100 Continue).
        func header(_ line: UnsafeRawBufferPointer) {
            let text = String(decoding: line, as: UTF8.self)
            if text.hasPrefix("HTTP/") { headers = [:]; return }
            guard let colon = text.firstIndex(of: ":") else { return }
            let name = text[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = text[text.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
            headers[name] = value
            if name == "content-length", !head, body.isEmpty, let declared = Int(value), declared > 0 {
                body.reserveCapacity(min(declared, CurlTransport.reserveLimit))
            }
        }
    }
}

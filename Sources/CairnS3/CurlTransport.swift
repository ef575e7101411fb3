import CairnStorage
import CairnSystem
import CCurl
import Foundation
import Synchronization

/// `HTTPTransport` that sends requests (GET, HEAD, DELETE, and PUT and POST
/// with their bodies) through libcurl's easy interface on threads of its own.
/// libcurl is loaded when the first transport is made (`cairn_curl_load`), so
/// that commands without S3 never load it and the libraries it needs.
///
/// URLSession on Linux runs libcurl too, but delivers each piece of a body
/// (16 KiB at most) as a fresh `Data` through an operation queue and
/// re-arms a dispatch timer per piece: a profile of a restore from moto
/// put a third of its CPU there (Docs/performance.md, issue 16.6); an upload
/// cost a copy of its body into a `Data` first. Here libcurl reads up to
/// `bufferSize` at a time and appends straight into the response's array,
/// and sends a body from the request's own array, on the thread that waits.
/// Uploads keep URLSession's mitigation (Docs/s3.md): each on a connection
/// of its own, closed after it, so a reset keep-alive connection never
/// makes libcurl retry an upload on it. (URLSession itself is not used: the
/// static FoundationNetworking links libcurl into every process.)
public final class CurlTransport: HTTPTransport {
    private let threads: BlockingThreads
    private let idle = Mutex<[EasyHandle]>([])
    private let timeout: Int

    /// Bytes libcurl reads from the socket at a time (its maximum is 10 MiB).
    static let bufferSize = 512 << 10
    /// Bytes of a body libcurl hands the socket at a time (its maximum is 2 MiB).
    static let uploadBufferSize = 1 << 20
    /// Capacity reserved up front from a declared Content-Length at most (a
    /// larger body still arrives, growing as it comes): a hostile header
    /// never makes a large allocation by itself.
    static let reserveLimit = 64 << 20

    /// An easy handle (one connection cache), used by one request at a time.
    private struct EasyHandle: @unchecked Sendable { let raw: UnsafeMutableRawPointer }

    /// - Parameters:
    ///   - connections: requests sent at once at most (the client's cap).
    ///   - timeout: seconds to connect, and seconds without a byte before a request fails.
    /// - Throws: `LazyLibraryError` when libcurl (libcurl.so.4) cannot be loaded.
    public init(connections: Int = 8, timeout: TimeInterval = 60) throws {
        try LazyLibraryError.check(cairn_curl_load())
        self.timeout = max(1, Int(timeout.rounded(.up)))
        threads = BlockingThreads(threads: max(1, connections), label: "cairn.s3.http")
    }

    deinit {
        for h in idle.withLock({ $0 }) { cairn_curl_easy_cleanup(h.raw) }
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard request.body.isEmpty || Self.hasBody(request.method) else {
            throw HTTPTransportError("a \(request.method) request cannot carry a body here")
        }
        let call = Call(head: request.method == "HEAD")
        return try await withTaskCancellationHandler {
            try await threads.run { try self.perform(request, call) }
        } onCancel: {
            call.cancelled.store(true, ordering: .relaxed)
        }
    }

    private static func hasBody(_ method: String) -> Bool { method == "PUT" || method == "POST" }

    /// Runs one request to its end on the calling thread.
    private func perform(_ request: HTTPRequest, _ call: Call) throws -> HTTPResponse {
        guard let handle = idle.withLock({ $0.popLast() }) ?? cairn_curl_easy_init().map(EasyHandle.init) else {
            throw HTTPTransportError("libcurl could not start a request")
        }
        defer { idle.withLock { $0.append(handle) } }
        let h = handle.raw
        // Options reset, connections kept.
        cairn_curl_easy_reset(h)
        let upload = Self.hasBody(request.method)
        var list: UnsafeMutablePointer<curl_slist>? = nil
        defer { cairn_curl_slist_free_all(list) }
        for line in Self.headerLines(request, upload: upload) { list = cairn_curl_slist_append(list, line) }
        var ok = request.url.withCString { cairn_curl_set_pointer(h, CURLOPT_URL, $0) } == CURLE_OK
        ok = ok && cairn_curl_set_pointer(h, CURLOPT_HTTPHEADER, list) == CURLE_OK
        if request.method == "HEAD" {
            ok = ok && cairn_curl_set_long(h, CURLOPT_NOBODY, 1) == CURLE_OK
        } else if request.method != "GET" && request.method != "POST" {
            ok = ok && request.method.withCString { cairn_curl_set_pointer(h, CURLOPT_CUSTOMREQUEST, $0) } == CURLE_OK
        }
        ok = ok && configure(h, call, upload: upload, bodyBytes: request.body.count)
        guard ok else { throw HTTPTransportError("libcurl refused an option for \(request.method)") }
        let code = request.body.withUnsafeBytes { body -> CURLcode in
            if upload {
                // The body is sent from the request's array, which outlives the transfer.
                let sized = cairn_curl_set_long(h, CURLOPT_POSTFIELDSIZE, body.count) == CURLE_OK
                    && cairn_curl_set_pointer(h, CURLOPT_POSTFIELDS, body.baseAddress ?? UnsafeRawPointer(Self.empty.utf8Start)) == CURLE_OK
                guard sized else { return CURLE_FAILED_INIT }
            }
            return cairn_curl_easy_perform(h)
        }
        if call.cancelled.load(ordering: .relaxed) { throw HTTPTransportError("cancelled") }
        guard code == CURLE_OK else { throw HTTPTransportError(String(cString: cairn_curl_easy_strerror(code))) }
        return HTTPResponse(status: cairn_curl_response_code(h), headers: call.headers, body: call.body)
    }

    /// A body of no bytes still needs an address.
    private static let empty: StaticString = ""

    /// The request's headers as libcurl takes them; an upload's labelled as bytes unless the
    /// caller says otherwise (libcurl would say a form, and moto's Flask would parse it as one)
    /// and sent at once (no `Expect: 100-continue` round trip).
    private static func headerLines(_ request: HTTPRequest, upload: Bool) -> [String] {
        var lines = request.headers.filter { $0.name.lowercased() != "host" }.map { "\($0.name): \($0.value)" }
        guard upload else { return lines }
        let names = Set(request.headers.map { $0.name.lowercased() })
        if !names.contains("content-type") { lines.append("Content-Type: application/octet-stream") }
        if !names.contains("expect") { lines.append("Expect:") }
        return lines
    }

    /// The options every request has: no signals (threads), HTTP/1.1, the
    /// timeouts, and the callbacks that fill `call`.
    private func configure(_ h: UnsafeMutableRawPointer, _ call: Call, upload: Bool, bodyBytes: Int) -> Bool {
        let context = UnsafeRawPointer(Unmanaged.passUnretained(call).toOpaque())
        var longs: [(CURLoption, Int)] = [
            (CURLOPT_NOSIGNAL, 1),
            (CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1)),
            (CURLOPT_BUFFERSIZE, Self.bufferSize),
            (CURLOPT_CONNECTTIMEOUT, timeout),
            // Fewer than 1 byte a second for `timeout` seconds: the request fails (a transient error).
            (CURLOPT_LOW_SPEED_LIMIT, 1),
            (CURLOPT_LOW_SPEED_TIME, timeout),
            // The whole request, as URLSession's watchdog bounded it: a second more per 64 KiB of body.
            (CURLOPT_TIMEOUT, 2 * timeout + bodyBytes / 65_536),
            (CURLOPT_NOPROGRESS, 0),
        ]
        if upload {
            // A connection of its own, closed after: see the type's comment.
            longs += [(CURLOPT_UPLOAD_BUFFERSIZE, Self.uploadBufferSize), (CURLOPT_FRESH_CONNECT, 1), (CURLOPT_FORBID_REUSE, 1)]
        }
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
                // A large body goes into a reused buffer when a reader gave one back (a restore's spans).
                body = ByteBufferPool.shared.take(capacity: min(declared, CurlTransport.reserveLimit))
            }
        }
    }
}

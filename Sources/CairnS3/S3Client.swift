import CairnCrypto
import CairnStorage
import Foundation
import Synchronization

/// A signed S3 client over any `HTTPTransport`: the handful of operations a
/// repository needs (put with checksum, get with range, head, list v2,
/// delete, multipart upload), each returning or throwing `S3Error`.
public final class S3Client: Sendable {
    public let location: S3Location
    public let region: String
    private let signer: SigV4Signer
    private let transport: any HTTPTransport
    private let slots: AsyncSemaphore
    private let now: @Sendable () -> Int64
    /// Keys per ListObjectsV2 page (S3's maximum is 1000; tests use less to exercise continuation).
    public let listPageSize: Int
    /// Whether this server's ETags are MD5s of what it stored. True until an
    /// upload read back whole proves otherwise (SSE-KMS and DSSE buckets, some
    /// S3-compatible servers); from then on ETags are not compared.
    private let etagsAreMD5 = LockedFlag(true)
    /// How this server's uploads are checked: learned from its answers (`UploadCheck`).
    let uploadCheck: Mutex<UploadCheck>

    /// - Parameters:
    ///   - connections: requests in flight at most (`--connections`).
    ///   - now: seconds since 1970, for the signature's date (tests pin it).
    public init(location: S3Location, credentials: S3Credentials, region: String, transport: any HTTPTransport,
                connections: Int = 8, listPageSize: Int = 1000,
                now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) {
        self.listPageSize = max(1, min(1000, listPageSize))
        self.location = location
        self.region = region
        self.signer = SigV4Signer(credentials: credentials, region: region)
        self.transport = transport
        self.slots = AsyncSemaphore(connections)
        self.now = now
        uploadCheck = Mutex(UploadCheck.first(for: location))
    }

    /// Sends one signed request; returns the response whatever its status.
    /// `key` nil addresses the bucket itself. `payloadSHA256` is the body's
    /// SHA-256 when the caller already holds it (a pack's name), else it is computed.
    public func send(_ method: String, key: String?, query: [(name: String, value: String)] = [],
                     headers extra: [(name: String, value: String)] = [], body: [UInt8] = [],
                     payloadSHA256: [UInt8]? = nil) async throws -> HTTPResponse {
        let (host, path) = location.target(key: key)
        let payload = payloadSHA256.map(SigV4Signer.hex) ?? SigV4Signer.payloadHash(body)
        let amzDate = SigV4Signer.amzDate(unixSeconds: now())
        var headers: [(name: String, value: String)] = [("host", host), ("x-amz-date", amzDate), ("x-amz-content-sha256", payload)]
        if let token = signer.credentials.sessionToken { headers.append(("x-amz-security-token", token)) }
        headers += extra
        let signature = signer.sign(SigV4Request(method: method, path: path, query: query, headers: headers, payloadHash: payload), amzDate: amzDate)
        headers.append(("Authorization", signature.authorization))
        let queryString = SigV4Signer.canonicalQuery(query)
        let url = "\(location.scheme)://\(host)\(SigV4Signer.canonicalPath(path))\(queryString.isEmpty ? "" : "?" + queryString)"
        let request = HTTPRequest(method: method, url: url, headers: headers + [("Accept-Encoding", "identity")], body: body)
        let label = describe(method, key: key)
        return try await slots.with {
            do { return try await transport.send(request) } catch {
                throw S3Error.transport(request: label, reason: "\(error)")
            }
        }
    }

    /// `METHOD s3:…/bucket/key` for messages (never a query string or a header).
    func describe(_ method: String, key: String?) -> String {
        "\(method) \(location.scheme)://\(location.hostHeader)/\(location.bucket)\(key.map { "/" + $0 } ?? "")"
    }

    /// Throws the server's error unless `status` is expected.
    func check(_ r: HTTPResponse, _ method: String, key: String?, ok: Set<Int> = [200]) throws {
        guard !ok.contains(r.status) else { return }
        throw error(r, method, key: key)
    }

    func error(_ r: HTTPResponse, _ method: String, key: String?) -> S3Error {
        let xml = String(decoding: r.body, as: UTF8.self)
        var code = S3XML.first("Code", in: xml) ?? ""
        if code.isEmpty && method == "HEAD" && r.status == 404 { code = key == nil ? "NoSuchBucket" : "NoSuchKey" }
        return .response(status: r.status, code: code, message: S3XML.first("Message", in: xml) ?? "", request: describe(method, key: key))
    }

    // MARK: objects

    /// PUT, signed with the body's SHA-256 and checked end to end by the kind of
    /// check this server supports (`UploadCheck`, Docs/s3.md "Checksums"): the server
    /// computes the body's SHA-256 and answers it, or verifies the one given, or (a
    /// server with neither) `Content-MD5` is sent and the ETag compared with it.
    ///
    /// `sha256` is the body's SHA-256 when the caller knows it without hashing
    /// (a pack's name: `S3Store.putPack`); a body that does not hash to it is
    /// refused by a server that checks, and not left stored by one that computes.
    ///
    /// `lock` sets the new version's Object Lock retention (the bucket must have Object Lock enabled;
    /// S3 demands a checksum header, `x-amz-sdk-checksum-algorithm` or `Content-MD5`, with it).
    public func putObject(_ key: String, _ body: [UInt8], sha256 known: [UInt8]? = nil, storageClass: String? = nil,
                          lock: ObjectRetention? = nil) async throws {
        let sha256 = known ?? SHA256.hash(body)
        var headers: [(name: String, value: String)] = [("content-type", "application/octet-stream")]
        if let storageClass { headers.append(("x-amz-storage-class", storageClass)) }
        if let lock { headers += Self.lockHeaders(lock) }
        let first = uploadCheck.withLock { $0 }
        var kind = first
        while true {
            let md5 = kind == .md5 ? MD5.digest(body) : nil
            let r = try await send("PUT", key: key, headers: headers + Self.checksumHeaders(kind, sha256: sha256, md5: md5),
                                   body: body, payloadSHA256: sha256)
            // Refused: once more with the next kind of check (at most twice); kept only if the server takes it.
            if let next = Self.checkAfterRefusal(r, sent: kind) { kind = next; continue }
            try check(r, "PUT", key: key)
            if kind != first { uploadCheck.withLock { if $0 == first { $0 = kind } } }
            try await confirm(r, key: key, body: body, sha256: sha256, md5: md5, sent: kind)
            return
        }
    }

    /// What an upload's ETag says about the bytes the server received.
    enum ETagVerdict: Equatable {
        /// The MD5 of the bytes sent.
        case matches
        /// Says nothing: absent, not an MD5's shape, an encrypted object's, or a server known not to use MD5s.
        case notComparable
        /// Looks like an MD5 but is not the one of the bytes sent.
        case differs
    }

    func etagVerdict(_ r: HTTPResponse, md5: [UInt8]) -> ETagVerdict {
        guard etagsAreMD5.value else { return .notComparable }
        return Self.etagVerdict(r, md5: md5)
    }

    static func etagVerdict(_ r: HTTPResponse, md5: [UInt8]) -> ETagVerdict {
        guard let raw = r.headers["etag"] else { return .notComparable }
        // aws:kms, aws:kms:dsse and SSE-C objects have ETags that are not MD5s.
        if (r.headers["x-amz-server-side-encryption"] ?? "").hasPrefix("aws:kms")
            || r.headers["x-amz-server-side-encryption-customer-algorithm"] != nil { return .notComparable }
        let etag = raw.trimmingCharacters(in: CharacterSet(charactersIn: "\"")).lowercased()
        guard etag.count == 32, etag.allSatisfy(\.isHexDigit) else { return .notComparable }
        return etag == SigV4Signer.hex(md5) ? .matches : .differs
    }

    /// Reads `key` back and compares it with what was sent: equal, this
    /// server's ETags are not MD5s and are not compared again; different (or
    /// gone), the object is deleted and a transient error thrown.
    func verifyByReadingBack(_ key: String, _ sent: [UInt8], etag: String) async throws {
        try await readBack(key, sent, why: "the server's ETag \(etag) is not the MD5 of the bytes sent")
        etagsAreMD5.set(false)
    }

    /// Returns when `key` holds exactly `sent`; otherwise (different, or gone) deletes it and
    /// throws a transient error saying `why` the object was read back.
    func readBack(_ key: String, _ sent: [UInt8], why: String) async throws {
        if let stored = try await getObject(key), stored == sent { return }
        try? await deleteObject(key)
        throw S3Error.transport(request: describe("PUT", key: key),
                               reason: "\(why), and the object read back differs from them: corrupted in transit")
    }

    /// The object, or bytes `range` of it; nil when it does not exist.
    /// A range starting past the end gives an empty array.
    public func getObject(_ key: String, range: ClosedRange<UInt64>? = nil) async throws -> [UInt8]? {
        let headers: [(name: String, value: String)] = range.map { [("range", "bytes=\($0.lowerBound)-\($0.upperBound)")] } ?? []
        let r = try await send("GET", key: key, headers: headers)
        if r.status == 416 { return [] }
        if r.status == 404, S3XML.first("Code", in: String(decoding: r.body, as: UTF8.self)) != "NoSuchBucket" { return nil }
        try check(r, "GET", key: key, ok: [200, 206])
        if let declared = r.headers["content-length"].flatMap(Int.init), declared != r.body.count {
            throw S3Error.transport(request: describe("GET", key: key), reason: "body truncated: \(r.body.count) of \(declared) bytes")
        }
        if range != nil && r.status == 200 {
            // A server that ignores Range sends the whole object: cut it here.
            guard let range else { return r.body }
            let start = Int(min(range.lowerBound, UInt64(r.body.count)))
            let end = Int(min(range.upperBound + 1, UInt64(r.body.count)))
            return Array(r.body[start..<end])
        }
        return r.body
    }

    /// The object's size, or nil when it does not exist.
    public func headObject(_ key: String) async throws -> UInt64? {
        let r = try await send("HEAD", key: key)
        if r.status == 404 { return nil }
        try check(r, "HEAD", key: key)
        guard let n = r.headers["content-length"].flatMap(UInt64.init) else {
            throw S3Error.transport(request: describe("HEAD", key: key), reason: "no Content-Length in the answer")
        }
        return n
    }

    /// Deletes; an absent object is not an error.
    public func deleteObject(_ key: String) async throws {
        let r = try await send("DELETE", key: key)
        if r.status == 404, S3XML.first("Code", in: String(decoding: r.body, as: UTF8.self)) == "NoSuchKey" { return }
        try check(r, "DELETE", key: key, ok: [200, 204])
    }

    /// Every key under `prefix`, following continuation tokens (ListObjectsV2).
    /// A token the server already sent ends the listing with an error: a server
    /// that repeats itself would otherwise keep it going (and growing) forever.
    public func listObjects(prefix: String) async throws -> [(key: String, size: UInt64)] {
        var out: [(key: String, size: UInt64)] = []
        var token: String?
        var tokens: Set<String> = []
        repeat {
            var query: [(name: String, value: String)] = [("list-type", "2"), ("prefix", prefix), ("max-keys", String(listPageSize))]
            if let token { query.append(("continuation-token", token)) }
            let r = try await send("GET", key: nil, query: query)
            try check(r, "GET", key: nil)
            let xml = String(decoding: r.body, as: UTF8.self)
            for item in S3XML.values("Contents", in: xml) {
                guard let key = S3XML.first("Key", in: item) else { continue }
                out.append((key, S3XML.first("Size", in: item).flatMap(UInt64.init) ?? 0))
            }
            token = S3XML.first("IsTruncated", in: xml) == "true" ? S3XML.first("NextContinuationToken", in: xml) : nil
            if S3XML.first("IsTruncated", in: xml) == "true" && token == nil {
                throw S3Error.transport(request: describe("GET", key: nil), reason: "listing truncated without a continuation token")
            }
            if let token, !tokens.insert(token).inserted {
                throw S3Error.transport(request: describe("GET", key: nil), reason: "the server sent continuation token \(String(token.prefix(40)).debugDescription) twice: the listing would never end")
            }
        } while token != nil
        return out
    }

    // MARK: buckets

    /// True when the bucket exists and these credentials may use it.
    public func bucketExists() async throws -> Bool {
        let r = try await send("HEAD", key: nil)
        if r.status == 404 { return false }
        try check(r, "HEAD", key: nil)
        return true
    }

    /// Creates the bucket (in `region` unless it is us-east-1).
    public func createBucket() async throws {
        var body: [UInt8] = []
        if region != "us-east-1" {
            body = Array("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>\(S3XML.escape(region))</LocationConstraint></CreateBucketConfiguration>".utf8)
        }
        let r = try await send("PUT", key: nil, body: body)
        if r.status == 409, S3XML.first("Code", in: String(decoding: r.body, as: UTF8.self)) == "BucketAlreadyOwnedByYou" { return }
        try check(r, "PUT", key: nil)
    }

    // MARK: multipart

    /// Starts a multipart upload; the object appears only when it completes.
    public func createMultipartUpload(_ key: String, storageClass: String? = nil, lock: ObjectRetention? = nil) async throws -> String {
        var headers: [(name: String, value: String)] = [("content-type", "application/octet-stream")]
        if let storageClass { headers.append(("x-amz-storage-class", storageClass)) }
        if let lock { headers += Self.lockHeaders(lock) }
        let r = try await send("POST", key: key, query: [("uploads", "")], headers: headers)
        try check(r, "POST", key: key)
        guard let id = S3XML.first("UploadId", in: String(decoding: r.body, as: UTF8.self)), !id.isEmpty else {
            throw S3Error.transport(request: describe("POST", key: key), reason: "no UploadId in the answer")
        }
        return id
    }

    /// Uploads one part with its `Content-MD5`; returns the part's ETag and
    /// whether that ETag differs from the part's MD5 (then the whole object is
    /// read back once the upload is complete: `verifyByReadingBack`).
    public func uploadPart(_ key: String, uploadID: String, number: Int, _ body: [UInt8]) async throws -> (etag: String, differs: Bool) {
        let md5 = MD5.digest(body)
        let r = try await send("PUT", key: key, query: [("partNumber", String(number)), ("uploadId", uploadID)],
                               headers: [("content-md5", MD5.base64(md5: md5))], body: body)
        try check(r, "PUT", key: key)
        guard let etag = r.headers["etag"] else {
            throw S3Error.transport(request: describe("PUT", key: key), reason: "no ETag for part \(number)")
        }
        return (etag, etagVerdict(r, md5: md5) == .differs)
    }

    /// Completes an upload from its parts' ETags, in part order.
    public func completeMultipartUpload(_ key: String, uploadID: String, etags: [String]) async throws {
        var xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for (i, etag) in etags.enumerated() { xml += "<Part><PartNumber>\(i + 1)</PartNumber><ETag>\(S3XML.escape(etag))</ETag></Part>" }
        xml += "</CompleteMultipartUpload>"
        let body = Array(xml.utf8)
        let r = try await send("POST", key: key, query: [("uploadId", uploadID)], headers: [("content-md5", MD5.base64(body)), ("content-type", "application/xml")], body: body)
        try check(r, "POST", key: key)
        // S3 may answer 200 and put the error in the body.
        let text = String(decoding: r.body, as: UTF8.self)
        if text.contains("<Error>") { throw error(HTTPResponse(status: 500, headers: r.headers, body: r.body), "POST", key: key) }
    }

    /// Reads a completed multipart object back when a part's ETag was not its
    /// MD5 (see `verifyByReadingBack`).
    public func verifyMultipartUpload(_ key: String, _ sent: [UInt8]) async throws {
        try await verifyByReadingBack(key, sent, etag: "of a part")
    }

    /// Discards an upload's parts (best effort).
    public func abortMultipartUpload(_ key: String, uploadID: String) async {
        _ = try? await send("DELETE", key: key, query: [("uploadId", uploadID)])
    }
}

/// A Bool shared between tasks.
final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Bool
    init(_ value: Bool) { stored = value }
    var value: Bool { lock.withLock { stored } }
    func set(_ value: Bool) { lock.withLock { stored = value } }
}

import CairnS3
import CairnStorage
import CairnTestSupport
import Foundation
import XCTest

/// Servers whose ETags are not MD5s (SSE-KMS, DSSE, some S3-compatible
/// servers) must not fail every upload; a body corrupted in transit to a
/// server that does not check Content-MD5 must still be caught. moto answers
/// the SHA-256 it computed (`UploadCheck.serverComputed`); the tests of the
/// ETag path take those answers away (`withoutChecksums`), as a server that
/// computes no checksum sends none, so the client falls back to Content-MD5.
final class ETagTests: XCTestCase {
    /// Passes requests to moto, then lets the test rewrite them or their answers.
    final class RewritingTransport: HTTPTransport, @unchecked Sendable {
        let base: any HTTPTransport
        private let lock = NSLock()
        private var log: [String] = []
        var rewriteRequest: @Sendable (HTTPRequest) -> HTTPRequest = { $0 }
        var rewriteResponse: @Sendable (HTTPRequest, HTTPResponse) -> HTTPResponse = { $1 }

        var requests: [String] { lock.withLock { log } }

        init() throws { base = try S3StoreFactory.transport(connections: 8, timeout: 10) }

        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            let sent = rewriteRequest(request)
            lock.withLock { log.append("\(sent.method) \(sent.url)") }
            return rewriteResponse(sent, try await base.send(sent))
        }
    }

    private func store(_ transport: RewritingTransport, bucket: String, endpoint: String) async throws -> S3Store {
        let plain = try S3TestSupport.client(endpoint: endpoint, bucket: bucket)
        if try await !plain.bucketExists() { try await plain.createBucket() }
        let client = S3Client(location: try S3Location(url: "s3:\(endpoint)/\(bucket)/repo"),
                              credentials: try S3Credentials.resolve(environment: MotoServer.environment), region: "us-east-1",
                              transport: transport)
        return S3Store(client: client, options: S3TestSupport.smallParts)
    }

    /// Every PUT answer's ETag replaced by one that is not the body's MD5
    /// (reversed hex). The server knows its parts by the real ones, so the
    /// CompleteMultipartUpload request is translated back (`realETags`).
    private static func opaque(_ request: HTTPRequest, _ response: HTTPResponse) -> HTTPResponse {
        guard request.method == "PUT", let etag = response.headers["etag"] else { return response }
        var r = response
        r.headers["etag"] = "\"" + String(etag.filter(\.isHexDigit).reversed()) + "\""
        return r
    }

    /// A server that computes no checksum: the answers lose their `x-amz-checksum-*` headers.
    static func withoutChecksums(_ response: HTTPResponse) -> HTTPResponse {
        var r = response
        r.headers = r.headers.filter { !$0.key.hasPrefix("x-amz-checksum-") }
        return r
    }

    private static func realETags(_ request: HTTPRequest) -> HTTPRequest {
        guard request.method == "POST", request.url.contains("uploadId=") else { return request }
        var xml = String(decoding: request.body, as: UTF8.self)
        var out = ""
        while let open = xml.range(of: "<ETag>"), let close = xml.range(of: "</ETag>", range: open.upperBound..<xml.endIndex) {
            let inner = String(xml[open.upperBound..<close.lowerBound])
            let hex = inner.replacingOccurrences(of: "&quot;", with: "")
            out += xml[..<open.upperBound] + inner.replacingOccurrences(of: hex, with: String(hex.reversed())) + "</ETag>"
            xml = String(xml[close.upperBound...])
        }
        var r = request
        r.body = Array((out + xml).utf8)
        return r
    }

    private func objects(_ n: Int, size: Int) -> [(ObjectKey, [UInt8])] {
        (0..<n).map { i in
            var g = SystemRandomNumberGenerator()
            let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &g) }
            return (ObjectKey(.data, SigV4Signer.payloadHash(bytes)), bytes)
        }
    }

    func testOpaqueETagsAreVerifiedOnceByReadingBackThenTrusted() async throws {
        let moto = try MotoServer.start()
        let transport = try RewritingTransport()
        transport.rewriteResponse = { Self.withoutChecksums(Self.opaque($0, $1)) }
        transport.rewriteRequest = Self.realETags
        let store = try await store(transport, bucket: S3TestSupport.bucketName("etag"), endpoint: moto.endpoint)
        let small = objects(6, size: 40_000), big = objects(1, size: 11 << 20)  // two parts of 5 MiB and one of 1 MiB
        for (k, b) in small + big { try await store.put(k, b) }
        for (k, b) in small + big { let got = try await store.get(k); XCTAssertEqual(got, b, k.path) }
        // The first object was read back right after its upload, to learn that this server's
        // ETags are not MD5s; no other upload was (the GETs after it are the test's own).
        let log = transport.requests
        let firstGet = try XCTUnwrap(log.firstIndex { $0.hasPrefix("GET") })
        XCTAssertTrue(log[firstGet].hasSuffix(small[0].0.path), "\(log)")
        XCTAssertEqual(log[..<firstGet].filter { $0.hasPrefix("PUT") }.count, 1, "\(log)")
        XCTAssertEqual(log.filter { $0.hasPrefix("GET") }.count, small.count + big.count + 1, "\(log)")
    }

    func testEncryptionHeadersMeanNoMD5() async throws {
        let moto = try MotoServer.start()
        for sse in ["aws:kms", "aws:kms:dsse"] {
            let transport = try RewritingTransport()
            transport.rewriteRequest = Self.realETags
            transport.rewriteResponse = { req, resp in
                var r = Self.withoutChecksums(Self.opaque(req, resp))
                if req.method == "PUT" { r.headers["x-amz-server-side-encryption"] = sse }
                return r
            }
            let store = try await store(transport, bucket: S3TestSupport.bucketName("sse"), endpoint: moto.endpoint)
            for (k, b) in objects(3, size: 10_000) { try await store.put(k, b) }
            XCTAssertEqual(transport.requests.filter { $0.hasPrefix("GET") }.count, 0, "\(sse): \(transport.requests)")
        }
    }

    /// moto ignores Content-MD5 and any checksum it is given: a body flipped on
    /// the way is stored. The SHA-256 moto computes shows it; without that answer
    /// the ETag (moto's is the MD5 of what it got) does; with opaque ETags too the
    /// read-back does. Each way the upload fails, transient, and nothing corrupt stays.
    func testCorruptionInTransitIsCaughtWithAndWithoutChecksumsAndMD5ETags() async throws {
        let moto = try MotoServer.start()
        for (checksums, opaqueETags) in [(true, false), (false, false), (false, true)] {
            let transport = try RewritingTransport()
            transport.rewriteRequest = { req in
                guard req.method == "PUT", req.body.count > 1000 else { return opaqueETags ? Self.realETags(req) : req }
                var r = req
                r.body[r.body.count / 2] ^= 0x40
                return r
            }
            transport.rewriteResponse = { req, resp in
                let r = opaqueETags ? Self.opaque(req, resp) : resp
                return checksums ? r : Self.withoutChecksums(r)
            }
            let store = try await store(transport, bucket: S3TestSupport.bucketName("corrupt"), endpoint: moto.endpoint)
            for (k, b) in objects(1, size: 50_000) + objects(1, size: 11 << 20) {
                do {
                    try await store.put(k, b)
                    XCTFail("a corrupted upload (\(b.count) bytes, checksums \(checksums), opaque ETags \(opaqueETags)) was accepted")
                } catch let e as StorageError {
                    guard case .transient(let why) = e else { return XCTFail("\(e)") }
                    XCTAssertTrue(why.contains("corrupted in transit"), why)
                }
                let left = try await store.size(k)
                XCTAssertNil(left, "the corrupted object was left in the bucket")
            }
        }
    }
}

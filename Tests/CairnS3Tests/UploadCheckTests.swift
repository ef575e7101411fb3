@testable import CairnS3
import CairnStorage
import CairnTestSupport
import Foundation
import XCTest

/// How uploads are checked end to end without an MD5 of every body
/// (`UploadCheck`, Docs/s3.md "Checksums"): a pack goes up in one PUT signed
/// with its name, moto computes the SHA-256 and the client compares it; a server
/// that insists on a checksum value (AWS) gets it; one that demands Content-MD5 gets that.
final class UploadCheckTests: XCTestCase {
    private static func header(_ r: HTTPRequest, _ name: String) -> String? {
        r.headers.first { $0.name.lowercased() == name }?.value
    }

    func testAPackGoesUpInOnePUTSignedWithItsNameAndMotoConfirmsIt() async throws {
        let moto = try MotoServer.start()
        let bucket = S3TestSupport.bucketName("upcheck")
        let plain = try S3TestSupport.client(endpoint: moto.endpoint, bucket: bucket)
        try await plain.createBucket()
        let recorder = CountingTransport(try S3StoreFactory.transport(connections: 4, timeout: 10))
        let client = S3Client(location: plain.location, credentials: try S3Credentials.resolve(environment: MotoServer.environment),
                              region: "us-east-1", transport: recorder)
        let store = S3Store(client: client)
        let pack = StoreConformance.bytes(17 << 20, seed: 41)  // over the 16 MiB multipart threshold of other objects
        let name = SigV4Signer.payloadHash(pack)
        try await store.putPack(ObjectKey(.data, name), pack, coldEligible: true)

        let puts = recorder.requests.filter { $0.method == "PUT" }
        XCTAssertEqual(recorder.requests.count, 1, "one PUT, no multipart upload: \(recorder.requests.map(\.url))")
        let put = try XCTUnwrap(puts.first)
        XCTAssertEqual(Self.header(put, "x-amz-content-sha256"), name, "signed with the pack's name")
        XCTAssertEqual(Self.header(put, "x-amz-sdk-checksum-algorithm"), "SHA256")
        XCTAssertNil(Self.header(put, "content-md5"), "no MD5 of the body")
        XCTAssertEqual(client.uploadCheck.withLock { $0 }, .serverComputed, "moto answered the SHA-256 it computed")
        let back = try await store.get(ObjectKey(.data, name))
        XCTAssertEqual(back, pack)

        // Bytes that are not the pack their name says are refused, not retried, and not left stored.
        var other = StoreConformance.bytes(100_000, seed: 42)
        let otherName = SigV4Signer.payloadHash(other)
        other[500] ^= 1
        do {
            try await store.putPack(ObjectKey(.data, otherName), other, coldEligible: true)
            XCTFail("a pack whose bytes do not hash to its name was stored")
        } catch let e as StorageError {
            guard case .io(_, let why) = e else { return XCTFail("not a permanent error: \(e)") }
            XCTAssertTrue(why.contains("do not hash"), why)
        }
        let left = try await store.size(ObjectKey(.data, otherName))
        XCTAssertNil(left)
    }

    /// AWS refuses a checksum algorithm without its value: the client sends the value
    /// from then on (AWS verifies it, and the signed payload hash, and answers it).
    func testARefusedAlgorithmWithoutValueMovesToTheValue() async throws {
        let transport = RecordingTransport { r in
            guard r.method == "PUT" else { return HTTPResponse(status: 200, headers: [:], body: []) }
            guard let value = Self.header(r, "x-amz-checksum-sha256") else {
                return Self.refusal("InvalidRequest", "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.")
            }
            return HTTPResponse(status: 200, headers: ["etag": "\"0123\"", "x-amz-checksum-sha256": value], body: [])
        }
        let client = try Self.client("s3:http://127.0.0.1:9/bucket/repo", transport)
        let body = Array("a pack".utf8)
        try await client.putObject("repo/data/ab/ab", body)
        try await client.putObject("repo/data/cd/cd", body)
        let sent = transport.requests
        XCTAssertEqual(sent.count, 3, "one refusal, then the value every time")
        XCTAssertEqual(Self.header(sent[1], "x-amz-checksum-sha256"), Data(SHA256Digest.of(body)).base64EncodedString())
        XCTAssertNotNil(Self.header(sent[2], "x-amz-checksum-sha256"))
        XCTAssertNil(Self.header(sent[2], "content-md5"))
        XCTAssertEqual(client.uploadCheck.withLock { $0 }, .supplied)

        // AWS's own endpoints get the value from the first upload.
        let aws = RecordingTransport { r in
            HTTPResponse(status: 200, headers: ["x-amz-checksum-sha256": Self.header(r, "x-amz-checksum-sha256") ?? ""], body: [])
        }
        let awsClient = try Self.client("s3:https://s3.eu-west-1.amazonaws.com/bucket/repo", aws)
        try await awsClient.putObject("repo/config", body)
        XCTAssertEqual(aws.requests.count, 1)
        XCTAssertNotNil(Self.header(aws.requests[0], "x-amz-checksum-sha256"))
        XCTAssertEqual(awsClient.uploadCheck.withLock { $0 }, .supplied)
    }

    /// A server that refuses the bare algorithm in words of its own, then takes the value
    /// but answers no checksum (so it checked nothing): Content-MD5 and its ETags from then on.
    func testAServerThatIgnoresTheValueGetsContentMD5() async throws {
        let (client, transport) = try await Self.putTwiceToMD5Server { r in
            Self.header(r, "content-md5") == nil && Self.header(r, "x-amz-checksum-sha256") == nil
                ? Self.refusal("InvalidArgument", "Unsupported header received for this API call.") : nil
        }
        XCTAssertEqual(transport.requests.count, 3, "one refusal, one upload with the value, then Content-MD5")
        XCTAssertNotNil(Self.header(transport.requests[2], "content-md5"))
        XCTAssertEqual(client.uploadCheck.withLock { $0 }, .md5)
    }

    /// A refusal no checksum header causes (here a bad storage class) fails the upload in every
    /// form and changes nothing; a server's own digest refusal is not tried again here (it is transient).
    func testOtherRefusalsFailAndLeaveTheCheckAsItWas() async throws {
        let transport = RecordingTransport { _ in Self.refusal("InvalidStorageClass", "The storage class you specified is not valid") }
        let client = try Self.client("s3:http://127.0.0.1:9/bucket/repo", transport)
        do {
            try await client.putObject("repo/data/ab/ab", Array("x".utf8), storageClass: "NOPE")
            XCTFail("a refused upload succeeded")
        } catch let e as S3Error {
            XCTAssertTrue("\(e)".contains("InvalidStorageClass"), "\(e)")
            XCTAssertFalse(e.isTransient)
        }
        XCTAssertEqual(transport.requests.count, 3, "each kind of check tried once")
        XCTAssertEqual(client.uploadCheck.withLock { $0 }, .serverComputed)

        let digest = RecordingTransport { _ in Self.refusal("BadDigest", "The SHA256 you specified did not match the calculated checksum.") }
        let digestClient = try Self.client("s3:http://127.0.0.1:9/bucket/repo", digest)
        do { try await digestClient.putObject("repo/data/ab/ab", Array("x".utf8)); XCTFail("a refused upload succeeded") } catch let e as S3Error {
            XCTAssertTrue(e.isTransient, "\(e)")
        }
        XCTAssertEqual(digest.requests.count, 1)
    }

    /// A server that demands Content-MD5 (Object Lock on some S3-compatible servers) gets it,
    /// and its ETags are compared with it.
    func testAServerDemandingContentMD5GetsIt() async throws {
        let (client, transport) = try await Self.putTwiceToMD5Server { r in
            Self.header(r, "content-md5") == nil
                ? Self.refusal("InvalidRequest", "Content-MD5 HTTP header is required for Put Object requests with Object Lock parameters") : nil
        }
        XCTAssertEqual(transport.requests.count, 3, "one refusal, then Content-MD5 every time")
        XCTAssertEqual(client.uploadCheck.withLock { $0 }, .md5)
    }

    private static func refusal(_ code: String, _ message: String) -> HTTPResponse {
        HTTPResponse(status: 400, headers: [:], body: Array("<Error><Code>\(code)</Code><Message>\(message)</Message></Error>".utf8))
    }

    /// Two uploads of one body to a server that answers `refuse`'s refusal, else takes the
    /// upload with the body's MD5 as its ETag and no checksum.
    private static func putTwiceToMD5Server(refuse: @escaping @Sendable (HTTPRequest) -> HTTPResponse?) async throws -> (S3Client, RecordingTransport) {
        let body = Array("a pack".utf8)
        let etag = "\"" + MD5.digest(body).map { String(format: "%02x", $0) }.joined() + "\""
        let transport = RecordingTransport { r in refuse(r) ?? HTTPResponse(status: 200, headers: ["etag": etag], body: []) }
        let client = try client("s3:http://127.0.0.1:9/bucket/repo", transport)
        try await client.putObject("repo/data/ab/ab", body)
        try await client.putObject("repo/data/cd/cd", body)
        return (client, transport)
    }

    private static func client(_ url: String, _ transport: any HTTPTransport) throws -> S3Client {
        S3Client(location: try S3Location(url: url), credentials: S3Credentials(accessKeyID: "AK", secretAccessKey: "SK", sessionToken: nil),
                 region: "eu-west-1", transport: transport)
    }
}

/// The SHA-256 of some bytes as raw bytes (the test's own, from the hex the signer gives).
private enum SHA256Digest {
    static func of(_ bytes: [UInt8]) -> [UInt8] {
        let hex = Array(SigV4Signer.payloadHash(bytes).utf8)
        func v(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : c - 87 }
        return stride(from: 0, to: hex.count, by: 2).map { v(hex[$0]) << 4 | v(hex[$0 + 1]) }
    }
}

import CairnS3
import CairnStorage
import XCTest

/// Inputs the `s3` fuzz target (Fuzz/) found, replayed against the client:
/// each must end in a clean error, never a hang, a crash or unbounded memory.
final class FuzzRegressionTests: XCTestCase {
    private func client(answering body: String, status: Int = 200) throws -> (S3Client, RecordingTransport) {
        let transport = RecordingTransport { _ in HTTPResponse(status: status, headers: [:], body: Array(body.utf8)) }
        let location = try S3Location(url: "s3:http://127.0.0.1:9000/bucket/repo")
        let client = S3Client(location: location, credentials: S3Credentials(accessKeyID: "AKID", secretAccessKey: "secret"),
                              region: "us-east-1", transport: transport, listPageSize: 2, now: { 1_700_000_000 })
        return (client, transport)
    }

    /// Fuzz/Regressions/s3/repeated-continuation-token: a server that answers every
    /// ListObjectsV2 page with the same truncated page and token kept the listing
    /// (and its memory) growing forever.
    func testRepeatedContinuationTokenEndsTheListing() async throws {
        let page = """
        <?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>bucket</Name><IsTruncated>true</IsTruncated>\
        <Contents><Key>repo/snapshots/aa</Key><Size>120</Size></Contents>\
        <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken></ListBucketResult>
        """
        let (client, transport) = try client(answering: page)
        do {
            let keys = try await client.listObjects(prefix: "repo/snapshots/")
            XCTFail("listing ended with \(keys.count) keys")
        } catch let e as S3Error {
            guard case .transport(_, let reason) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(reason.contains("twice"), reason)
        }
        XCTAssertEqual(transport.requests.count, 2, "the second page repeats the first page's token")

        // Through the store, as every command lists: the same clean error, as a StorageError.
        let store = S3Store(client: client)
        do {
            _ = try await store.list(.snapshots)
            XCTFail("listing ended")
        } catch let e as StorageError {
            XCTAssertTrue("\(e)".contains("continuation token"), "\(e)")
        }
    }

    /// Fuzz/Regressions/s3/many-ampersands: every `&` searched the rest of the text for
    /// its `;`, so a key of 20,000 `&` took minutes (quadratic); the search now stops
    /// after the longest entity. Entities still decode.
    func testManyAmpersandsDecodeInLinearTime() async throws {
        let amps = String(repeating: "&", count: 50_000)
        let body = "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>repo/\(amps)&lt;&#x41;&#66;&amp;&unknown;</Key><Size>7</Size></Contents></ListBucketResult>"
        let (client, _) = try client(answering: body)
        let keys = try await client.listObjects(prefix: "repo/")
        XCTAssertEqual(keys.count, 1)
        XCTAssertEqual(keys.first?.key, "repo/" + amps + "<AB&&unknown;")
        XCTAssertEqual(keys.first?.size, 7)
    }

    /// Tokens that change on every page still list everything.
    func testChangingTokensStillList() async throws {
        let transport = RecordingTransport { request in
            let page = request.url.contains("continuation-token=") ? 2 : 1
            let body = page == 1
                ? "<ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>repo/a</Key><Size>1</Size></Contents><NextContinuationToken>t1</NextContinuationToken></ListBucketResult>"
                : "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>repo/b</Key><Size>2</Size></Contents></ListBucketResult>"
            return HTTPResponse(status: 200, headers: [:], body: Array(body.utf8))
        }
        let client = S3Client(location: try S3Location(url: "s3:http://127.0.0.1:9000/bucket/repo"),
                              credentials: S3Credentials(accessKeyID: "AKID", secretAccessKey: "secret"),
                              region: "us-east-1", transport: transport, now: { 1_700_000_000 })
        let keys = try await client.listObjects(prefix: "repo/")
        XCTAssertEqual(keys.map(\.key), ["repo/a", "repo/b"])
    }
}

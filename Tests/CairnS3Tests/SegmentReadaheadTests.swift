import CairnS3
import CairnStorage
import Foundation
import XCTest

/// Ranged reads of a pack through `S3Store`'s segment cache: a pack read
/// front to back takes one GET per `readaheadSegments` segments, a read in
/// the middle of a pack one segment, and every byte comes back right.
final class SegmentReadaheadTests: XCTestCase {
    /// An in-memory bucket answering GETs with and without Range, as S3 does.
    private func store(object: [UInt8], name: String, readahead: Int, failFirst: Bool = false) throws -> (S3Store, RecordingTransport) {
        let failures = Counter(failFirst ? 1 : 0)
        let transport = RecordingTransport { request in
            if failures.take() { return HTTPResponse(status: 503, headers: [:], body: []) }
            guard request.method == "GET", request.url.hasSuffix(name) else { return HTTPResponse(status: 404, headers: [:], body: []) }
            guard let range = request.headers.first(where: { $0.name.lowercased() == "range" })?.value else {
                return HTTPResponse(status: 200, headers: ["content-length": "\(object.count)"], body: object)
            }
            let bounds = range.dropFirst("bytes=".count).split(separator: "-").compactMap { Int($0) }
            guard bounds.count == 2, bounds[0] < object.count else { return HTTPResponse(status: 416, headers: [:], body: []) }
            let body = Array(object[bounds[0]...min(bounds[1], object.count - 1)])
            return HTTPResponse(status: 206, headers: ["content-length": "\(body.count)"], body: body)
        }
        let client = S3Client(location: try S3Location(url: "s3:http://127.0.0.1:1/bucket/repo"),
                              credentials: S3Credentials(accessKeyID: "test", secretAccessKey: "test"), region: "us-east-1", transport: transport)
        var options = S3Store.Options()
        options.readSegmentSize = 1 << 10
        options.readSegments = 16
        options.readaheadSegments = readahead
        return (S3Store(client: client, options: options), transport)
    }

    /// Answers left to fail.
    private final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var left: Int
        init(_ n: Int) { left = n }
        func take() -> Bool { lock.withLock { if left > 0 { left -= 1; return true }; return false } }
    }

    private func gets(_ t: RecordingTransport) -> Int { t.requests.filter { $0.method == "GET" }.count }

    func testSequentialReadsOfAPackTakeOneRequestPerReadahead() async throws {
        let pack = (0..<(4 << 10 + 300)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 8) }  // 4 segments and a short fifth
        let name = String(repeating: "ab", count: 32)
        let (s3, transport) = try store(object: pack, name: name, readahead: 5)
        // Blobs of 700 bytes read front to back, as a restore reads a pack.
        var at = 0
        while at < pack.count {
            let n = min(700, pack.count - at)
            let got = try await s3.get(ObjectKey(.data, name), offset: UInt64(at), length: n)
            XCTAssertEqual(got, Array(pack[at..<(at + n)]), "bytes at \(at)")
            at += n
        }
        XCTAssertEqual(gets(transport), 1, "the read from the first byte fetched the whole pack (5 segments) in one GET")

        // Without readahead the same reads take one GET per segment.
        let (plain, t1) = try store(object: pack, name: name, readahead: 1)
        at = 0
        while at < pack.count {
            let n = min(700, pack.count - at)
            _ = try await plain.get(ObjectKey(.data, name), offset: UInt64(at), length: n)
            at += n
        }
        XCTAssertEqual(gets(t1), 5)
    }

    func testAReadInTheMiddleFetchesOneSegmentThenReadsAhead() async throws {
        let pack = (0..<(8 << 10)).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        let name = String(repeating: "cd", count: 32)
        let (s3, transport) = try store(object: pack, name: name, readahead: 3)
        let got = try await s3.get(ObjectKey(.data, name), offset: 2500, length: 100)
        XCTAssertEqual(got, Array(pack[2500..<2600]))
        XCTAssertEqual(gets(transport), 1)
        XCTAssertEqual(transport.requests.last?.headers.first { $0.name.lowercased() == "range" }?.value, "bytes=2048-3071",
                       "a lone read in the middle of a pack fetches its one segment")
        // The next segment follows a held one: it and the two after it come in one GET.
        let next = try await s3.get(ObjectKey(.data, name), offset: 3100, length: 1000)
        XCTAssertEqual(next, Array(pack[3100..<4100]))
        XCTAssertEqual(gets(transport), 2)
        XCTAssertEqual(transport.requests.last?.headers.first { $0.name.lowercased() == "range" }?.value, "bytes=3072-6143")
        let rest = try await s3.get(ObjectKey(.data, name), offset: 4100, length: 1000)
        XCTAssertEqual(rest, Array(pack[4100..<5100]))
        XCTAssertEqual(gets(transport), 2, "already fetched by the readahead")
        // A segment past the end of the object comes back short, not as an error or as other bytes.
        let tail = try await s3.get(ObjectKey(.data, name), offset: 8000, length: 500)
        XCTAssertEqual(tail, Array(pack[8000...]))
    }

    func testAFailedSpanIsFetchedAgain() async throws {
        let pack = (0..<(3 << 10)).map { UInt8(truncatingIfNeeded: $0) }
        let name = String(repeating: "ef", count: 32)
        let (s3, transport) = try store(object: pack, name: name, readahead: 3, failFirst: true)
        do {
            _ = try await s3.get(ObjectKey(.data, name), offset: 0, length: 10)
            XCTFail("the first GET answers 503")
        } catch StorageError.transient {}
        var got: [UInt8] = []
        while got.count < pack.count { got += try await s3.get(ObjectKey(.data, name), offset: UInt64(got.count), length: min(1000, pack.count - got.count)) }
        XCTAssertEqual(got, pack)
        XCTAssertEqual(gets(transport), 2, "the failed span is not kept: fetched again, whole, once")
    }
}

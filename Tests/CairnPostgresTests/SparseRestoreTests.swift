import CairnRepository
import CairnTestSupport
import Foundation
import XCTest
@testable import CairnPostgres

/// The background fetcher's restore of segments closed early by archive_timeout (a little WAL, then
/// zeros): every segment comes back byte for byte, its zeros as a hole, and the run of zeros — one
/// chunk repeated through every segment — is read and verified once per process, not once per
/// window of every segment (`Repository.repeatedChunks`).
final class SparseRestoreTests: XCTestCase {
    static let passphrase = Array("sparse restore".utf8)
    static let segmentSize = 4 << 20

    func testARunOfZerosIsReadOncePerProcessAndEverySegmentComesBackExact() async throws {
        let (dir, _, store, cache, writer) = try await RequestCountingStore.repository(passphrase: Self.passphrase, name: "sparse")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func name(_ i: Int) -> String { WALFileName.segment(timeline: 1, number: UInt64(0x40 + i), segmentSize: UInt64(16 << 20)) }
        func content(_ i: Int) -> [UInt8] {
            RandomBytes.make(8192 + 512 * i, seed: UInt64(i)) + [UInt8](repeating: 0, count: Self.segmentSize - 8192 - 512 * i)
        }
        for i in 0..<4 {
            let path = dir + "/" + name(i)
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(content(i))))
            guard case .stored = try await WALArchive(repo: writer, name: "pg-wal").push(path: path, fileName: name(i)) else {
                return XCTFail("segment \(i) not stored")
            }
        }

        /// Restores segment `i` through `repo` as the fetcher does; the requests it took.
        func restore(_ i: Int, _ repo: Repository) async throws -> Int {
            let archive = WALArchive(repo: repo, name: "pg-wal")
            let row = try XCTUnwrap(try archive.lookup(name(i)).last)
            let out = dir + "/out-\(i)-\(UUID().uuidString)"
            _ = store.take()
            try await archive.restoreSparse(row, into: out)
            let requests = store.take().values.reduce(0, +)
            XCTAssertEqual(FileManager.default.contents(atPath: out).map { [UInt8]($0) }, content(i), "segment \(i) byte for byte")
            var st = stat()
            XCTAssertEqual(stat(out, &st), 0)
            XCTAssertLessThan(Int(st.st_blocks) * 512, Self.segmentSize / 2, "the zeros of segment \(i) are a hole")
            return requests
        }

        // A process that has not seen the run of zeros reads it in every window of the segment.
        let cold = try await Repository.open(store: store, passphrase: Self.passphrase, cacheBase: cache)
        let first = try await restore(3, cold)
        // The fetcher: the first segment reads the zeros; the later ones only what is their own.
        let fetcher = try await Repository.open(store: store, passphrase: Self.passphrase, cacheBase: cache)
        var later: [Int] = []
        for i in 0..<3 { later.append(try await restore(i, fetcher)) }
        let windows = Self.segmentSize / (2 << 20)
        for k in 1..<3 {
            XCTAssertLessThanOrEqual(later[k], first - windows, "segment \(k): \(later[k]) requests, a new process \(first) for segment 3")
        }
    }
}

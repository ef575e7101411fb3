@testable import CairnEngine
import CairnFormat
import CairnStorage
import CairnTestSupport
import XCTest

final class StreamRoundTripTests: XCTestCase {
    /// Small chunks so that edge sizes and many-chunk streams stay fast in debug builds.
    let tiny = [ChunkerProfile(name: "dump", minimumSize: 256, averageSize: 1024, maximumSize: 4096),
                ChunkerProfile(name: "file", minimumSize: 256, averageSize: 1024, maximumSize: 4096)]

    func testEdgeSizesRoundTripByteIdentical() async throws {
        let t = try await TestRepository.make(profiles: tiny)
        for (i, size) in [0, 1, 255, 256, 257, 4095, 4096, 4097, 100_000, 1_000_000].enumerated() {
            let data = pseudoRandomBytes(size, seed: UInt64(i))
            let r = try await backupStream(t.repo, data, name: "s\(i)")
            XCTAssertEqual(r.snapshot.logicalBytes, UInt64(size))
            let back = try await restoreStream(t.repo, r.snapshotID)
            XCTAssertEqual(back.count, size)
            XCTAssertTrue(back == data, "size \(size) differs after restore")
        }
    }

    func testIndirectContentBeyondFanout() async throws {
        // ~6 MB at 1 KiB chunks: more than 4096 chunk ids, so the content goes through list blobs.
        let t = try await TestRepository.make(profiles: tiny)
        let data = pseudoRandomBytes(6_000_000, seed: 42)
        let r = try await backupStream(t.repo, data)
        let root = try await t.repo.loadTree(r.snapshot.root)
        XCTAssertEqual(root.nodes.first?.content.level, 1, "content should be one level of list blobs")
        let back = try await restoreStream(t.repo, r.snapshotID)
        XCTAssertTrue(back == data)
    }

    func testDedupAcrossSnapshots() async throws {
        let t = try await TestRepository.make(profiles: tiny)
        var data = pseudoRandomBytes(2_000_000, seed: 7)
        let first = try await backupStream(t.repo, data)
        XCTAssertEqual(first.newBytes, 2_000_000)
        let second = try await backupStream(t.repo, data)
        XCTAssertEqual(second.newBytes, 0)
        // A small change in the middle costs a few chunks, not the stream.
        data.replaceSubrange(1_000_000..<1_000_010, with: [UInt8](repeating: 0xAA, count: 10))
        let third = try await backupStream(t.repo, data)
        XCTAssertGreaterThan(third.newBytes, 0)
        XCTAssertLessThan(third.newBytes, 20_000)
        let back = try await restoreStream(t.repo, third.snapshotID)
        XCTAssertTrue(back == data)
    }

    func testCompressibleDataIsCompressed() async throws {
        let t = try await TestRepository.make()
        let text = Array(String(repeating: "COPY public.users (id, name) FROM stdin;\n42\talice\n", count: 40_000).utf8)
        let r = try await backupStream(t.repo, text)
        XCTAssertLessThan(r.storedBytes, UInt64(text.count / 5))
        let back = try await restoreStream(t.repo, r.snapshotID)
        XCTAssertTrue(back == text)
    }
}

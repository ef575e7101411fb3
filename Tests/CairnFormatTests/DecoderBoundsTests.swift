@testable import CairnFormat
import XCTest

/// Counts read from input are bounded by the bytes left before anything is
/// allocated for them (format-spec §1; #15.12), and writers split what
/// readers bound (index deltas, §10).
final class DecoderBoundsTests: XCTestCase {
    /// The review's tree: about 8 KB claiming 268 M nodes (45 GB of nodes reserved).
    func testTreeClaimingMoreNodesThanItsBytesHoldFailsBeforeAllocating() {
        var w = ByteWriter()
        w.u8(1); w.varint(268_435_456)
        let bytes = w.bytes + [UInt8](repeating: 0, count: 8_000)
        XCTAssertThrowsError(try Tree.decode(bytes)) { error in
            XCTAssertTrue("\(error)".contains("exceeds \(8_000 / Tree.minimumNodeBytes)"), "\(error)")
        }
        // A count the bytes could hold if nodes were 1 byte, but not at 31: refused too.
        var v = ByteWriter(); v.u8(1); v.varint(8_000 / 2)
        XCTAssertThrowsError(try Tree.decode(v.bytes + [UInt8](repeating: 0, count: 8_000)))
    }

    /// Within the bound, a count still reserves only a little up front: 1 MB of zeros
    /// claiming the most nodes it could hold fails at the first node.
    func testReservationDoesNotFollowTheClaim() {
        XCTAssertEqual(ByteReader.initialCapacity(1 << 30), 1024)
        XCTAssertEqual(ByteReader.initialCapacity(7), 7)
        var w = ByteWriter(); w.u8(1); w.varint((1 << 20) / Tree.minimumNodeBytes)
        XCTAssertThrowsError(try Tree.decode(w.bytes + [UInt8](repeating: 0, count: 1 << 20))) { error in
            XCTAssertTrue("\(error)".contains("unknown node kind 0"), "\(error)")
        }
    }

    /// The smallest node really is `minimumNodeBytes`, so the bound refuses nothing honest.
    func testMinimumNodeSizeIsExact() throws {
        let smallest = Tree(nodes: [Node(name: [0x61], kind: .symlink, mode: 0)])
        let encoded = smallest.encoded()
        XCTAssertEqual(encoded.count, 2 + Tree.minimumNodeBytes)
        XCTAssertEqual(try Tree.decode(encoded), smallest)
    }

    func testOtherCountsAreBoundedByTheirElementSize() {
        // ContentRef: 32 bytes an id.
        var c = ByteWriter(); c.u8(0); c.varint(100)
        XCTAssertThrowsError(try ContentRef.decodeListBlob(c.bytes + [UInt8](repeating: 0, count: 32 * 99)))
        // Pack header: 36 bytes an entry.
        var p = ByteWriter(); p.raw(Array("CRNP".utf8)); p.u8(1); p.u8(0); p.varint(1_000)
        XCTAssertThrowsError(try PackHeader.decode(p.bytes + [UInt8](repeating: 0, count: 35_000), dataLength: nil)) { error in
            XCTAssertTrue("\(error)".contains("exceeds"), "\(error)")
        }
        // Index delta: 35 bytes a pack.
        var d = ByteWriter(); d.u8(1); d.varint(0); d.varint(1_000)
        XCTAssertThrowsError(try IndexDelta.decode(d.bytes + [UInt8](repeating: 0, count: 34_000))) { error in
            XCTAssertTrue("\(error)".contains("exceeds"), "\(error)")
        }
    }

    /// Writers keep deltas small: many packs become several deltas, whole packs each,
    /// and only the last names what they supersede.
    func testIndexDeltaPartsSplitWholePacksAndSupersedeLast() throws {
        let packs = (0..<1_000).map { i in
            IndexedPack(id: PackID(bytes: [UInt8](repeating: UInt8(i % 251), count: 31) + [UInt8(i / 251)])!, type: .data, size: 1 << 20,
                        entries: (0..<20).map { j in BlobEntry(type: .data, id: ChunkID(bytes: [UInt8](repeating: UInt8(j), count: 32))!, offset: UInt64(j) * 100, length: 100, rawLength: 90) })
        }
        let old = [IndexObjectID(bytes: [UInt8](repeating: 0xee, count: 32))!]
        let parts = IndexDelta.parts(packs: packs, supersedes: old, maximumBytes: 64 << 10)
        XCTAssertGreaterThan(parts.count, 10)
        XCTAssertEqual(parts.flatMap(\.packs), packs)
        XCTAssertEqual(parts.last?.supersedes, old)
        XCTAssertTrue(parts.dropLast().allSatisfy { $0.supersedes.isEmpty })
        for part in parts { XCTAssertLessThanOrEqual(part.encoded().count, 64 << 10) }
        XCTAssertEqual(IndexDelta.parts(packs: []).count, 1, "an empty index is one empty delta")
    }
}

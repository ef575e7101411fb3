import CairnCrypto
import CairnFormat
import CairnIndex
import CairnTestSupport
import Foundation
import XCTest

/// The compact table a prune, scrub or rebuild holds the store's index in:
/// lookups are exact, ids that share their 62-bit key are told apart by the
/// full id read back from disk, and memory stays at ~12 bytes an entry.
final class IndexEntryTableTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws { directory = try temporaryDirectory("entry-table") }

    func id(_ n: Int) -> ChunkID { SHA256.id(Array("blob \(n)".utf8)) }
    func packID(_ n: Int) -> PackID { SHA256.packID(Array("pack \(n)".utf8)) }

    /// An id sharing `other`'s first 8 bytes (so its 62-bit key) but not the rest.
    func sameKey(as other: ChunkID, tail: UInt8) -> ChunkID {
        var b = other.bytes
        for i in 8..<32 { b[i] = tail }
        return ChunkID(bytes: b)!
    }

    func entry(_ id: ChunkID, _ type: BlobType = .data, at offset: UInt64, base: ChunkID? = nil) -> BlobEntry {
        BlobEntry(type: type, id: id, offset: offset, length: 100, rawLength: 200, base: base)
    }

    func testLookupsAreExactAndTellKeySharingIdsApart() throws {
        let table = try IndexEntryTable(directory: directory, repeatedPacks: .keepFirst)
        let a = id(1), b = id(2), tree = id(3)
        let twin = sameKey(as: a, tail: 0xEE)          // shares a's key: a collision
        let absent = sameKey(as: b, tail: 0x11)        // shares b's key, in no pack
        try table.add(IndexedPack(id: packID(100), type: .data, size: 1000, entries: [
            entry(a, at: 0), entry(b, at: 100), entry(twin, at: 200, base: a),
        ]))
        try table.add(IndexedPack(id: packID(101), type: .metadata, size: 500, entries: [entry(tree, .tree, at: 0)]))
        // The same pack named again (a second index object): the first stays.
        XCTAssertFalse(try table.add(IndexedPack(id: packID(100), type: .data, size: 1, entries: [entry(absent, at: 0)])))
        try table.finish()

        XCTAssertEqual(table.recordCount, 4)
        XCTAssertEqual(try table.records(a, .data), [0])
        XCTAssertEqual(try table.records(twin, .data), [2], "a key-sharing id is found by its full id")
        XCTAssertEqual(try table.records(b, .data), [1])
        XCTAssertEqual(try table.records(tree, .tree), [3])
        XCTAssertEqual(try table.records(tree, .data), [], "types are part of the key")
        XCTAssertEqual(try table.records(a, .tree), [])
        XCTAssertEqual(try table.records(absent, .data), [], "an absent id sharing a key is absent")
        XCTAssertEqual(try table.records(absent, .data, exact: false), [1], "the unverified lookup takes the single match, as documented")
        XCTAssertEqual(try table.records(id(99), .data, exact: false), [])
        XCTAssertEqual(try table.entry(2), entry(twin, at: 200, base: a))
        XCTAssertEqual(table.slot(ofRecord: 3), 1)
        XCTAssertEqual(table.packs[0].blobBytes, 300)
        XCTAssertTrue(table.isDelta[2])
        XCTAssertFalse(table.isDelta[0])
        XCTAssertEqual(try table.pack(1), IndexedPack(id: packID(101), type: .metadata, size: 500, entries: [entry(tree, .tree, at: 0)]))

        var blobs: [ChunkID: [Int]] = [:]
        try table.forEachBlob { _, records in blobs[try table.id(ofRecord: records[0])] = records }
        XCTAssertEqual(blobs, [a: [0], b: [1], twin: [2], tree: [3]])
    }

    func testRepeatedPacksAndDuplicateBlobs() throws {
        let last = try IndexEntryTable(directory: directory, repeatedPacks: .keepLast)
        let a = id(1), b = id(2)
        try last.add(IndexedPack(id: packID(100), type: .data, size: 1000, entries: [entry(a, at: 0)]))
        try last.add(IndexedPack(id: packID(101), type: .data, size: 1000, entries: [entry(a, at: 0), entry(b, at: 100)]))
        try last.add(IndexedPack(id: packID(100), type: .data, size: 2000, entries: [entry(a, at: 500)]))
        try last.finish()
        XCTAssertEqual(last.liveSlots, [1, 2], "the first copy of pack 100 is replaced")
        XCTAssertEqual(try last.records(a, .data), [1, 3], "its records are no location any more")
        XCTAssertEqual(last.slot(of: packID(100)), 2)
        XCTAssertEqual(try last.entries(of: a, .data).map(\.entry.offset), [0, 500])
        var groups: [[Int]] = []
        try last.forEachBlob { _, records in groups.append(records) }
        XCTAssertEqual(groups.sorted { $0[0] < $1[0] }, [[1, 3], [2]])
    }

    func testManyEntriesSortFindAndStayUnderFourteenBytesEach() throws {
        let table = try IndexEntryTable(directory: directory, repeatedPacks: .keepFirst)
        // 2^18: the rows' capacity is exactly the count (it doubles from 2^16), as at 100 million
        // entries it is within a few percent of it.
        let count = 1 << 18, perPack = 1 << 10
        var rng = SystemRandomNumberGenerator()
        var sample: [(ChunkID, Int)] = []
        for p in 0..<(count / perPack) {
            var entries: [BlobEntry] = []
            entries.reserveCapacity(perPack)
            for i in 0..<perPack {
                let blob = ChunkID(w0: rng.next(), w1: rng.next(), w2: rng.next(), w3: UInt64(p * perPack + i))
                entries.append(BlobEntry(type: .data, id: blob, offset: UInt64(i * 100), length: 100, rawLength: 100))
                if (p * perPack + i) % 997 == 0 { sample.append((blob, p * perPack + i)) }
            }
            try table.add(IndexedPack(id: PackID(words: 0, 0, 1, UInt64(p)), type: .data, size: UInt64(perPack * 100), entries: entries))
        }
        try table.finish()
        XCTAssertEqual(table.recordCount, count)
        for (blob, record) in sample {
            XCTAssertEqual(try table.records(blob, .data), [record])
            XCTAssertEqual(table.slot(ofRecord: record), record / perPack)
        }
        var n = 0
        try table.forEachBlob { _, records in n += records.count }
        XCTAssertEqual(n, count, "every entry is one blob")
        let perEntry = Double(table.memoryBytes) / Double(count)
        XCTAssertLessThan(perEntry, 14, "memory per entry: \(perEntry) bytes")
    }
}

private extension ChunkID {
    init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        var b = [UInt8](repeating: 0, count: 32)
        b.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: w0.bigEndian, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: w1.bigEndian, toByteOffset: 8, as: UInt64.self)
            raw.storeBytes(of: w2.bigEndian, toByteOffset: 16, as: UInt64.self)
            raw.storeBytes(of: w3.bigEndian, toByteOffset: 24, as: UInt64.self)
        }
        self = b.withUnsafeBytes { ChunkID(raw: $0) }
    }
}

import CairnFormat
import CairnIndex
import Foundation
import XCTest

final class RepositoryIndexTests: XCTestCase {
    func id(_ n: UInt8) -> ChunkID { ChunkID(bytes: [UInt8](repeating: n, count: 32))! }
    func packID(_ n: UInt8) -> PackID { PackID(bytes: [UInt8](repeating: n, count: 32))! }

    func testPacksBlobsAndCheckpoints() throws {
        let path = NSTemporaryDirectory() + "idx-\(UUID().uuidString).sqlite"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let index = try RepositoryIndex(path: path)
        let pack = IndexedPack(id: packID(1), type: .data, size: 1000, entries: [
            BlobEntry(type: .data, id: id(2), offset: 0, length: 100, rawLength: 200),
            BlobEntry(type: .data, id: id(3), offset: 100, length: 50, rawLength: 50),
        ])
        try index.addPacks([pack], indexed: false)
        XCTAssertTrue(try index.contains(id(2), type: .data))
        XCTAssertFalse(try index.contains(id(2), type: .tree))
        XCTAssertEqual(try index.lookup(id(3), type: .data), BlobLocation(pack: packID(1), offset: 100, length: 50, rawLength: 50))
        XCTAssertEqual(try index.unindexedPacks(), [pack])
        try index.markIndexed([packID(1)], indexObject: "delta1")
        XCTAssertEqual(try index.unindexedPacks(), [])
        XCTAssertEqual(try index.indexObjectNames(), ["delta1"])
        let t = try index.totals()
        XCTAssertEqual(t.blobCount, 2); XCTAssertEqual(t.rawBytes, 250); XCTAssertEqual(t.packBytes, 1000)

        // Reopening keeps everything (it is a file), reset empties it.
        let again = try RepositoryIndex(path: path)
        XCTAssertTrue(try again.contains(id(3), type: .data))
        try again.reset()
        XCTAssertFalse(try again.contains(id(3), type: .data))
    }

    func testFeaturesInBatchesFindWholeBasesOnly() throws {
        let path = NSTemporaryDirectory() + "idx-\(UUID().uuidString).sqlite"
        defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) } }
        let index = try RepositoryIndex(path: path)
        try index.addPacks([IndexedPack(id: packID(1), type: .data, size: 1000, entries: [
            BlobEntry(type: .data, id: id(2), offset: 0, length: 100, rawLength: 200),
            BlobEntry(type: .data, id: id(3), offset: 100, length: 50, rawLength: 50),
            BlobEntry(type: .data, id: id(4), offset: 150, length: 50, rawLength: 90, base: id(2)),
        ])], indexed: false)
        try index.addFeatures([])
        try index.addFeatures([(id(2), [10, 11, 12]), (id(3), [20, 21, 22]), (id(4), [30, 31, 32])])
        try index.addFeatures([(id(2), [10, 11, 12])])   // again: ignored, no constraint error
        try index.addFeatures(id(3), [23])                 // the single-chunk form still works
        XCTAssertEqual(try index.similarChunk([99, 11, 98]), id(2))
        XCTAssertEqual(try index.similarChunk([22]), id(3))
        XCTAssertEqual(try index.similarChunk([23]), id(3))
        XCTAssertNil(try index.similarChunk([30, 31, 32]), "a delta blob is never a base")
        XCTAssertNil(try index.similarChunk([40]))
        // Committed: another connection sees them.
        XCTAssertEqual(try RepositoryIndex(path: path).similarChunk([12]), id(2))
    }

    func testSnapshotsAndTreeCache() throws {
        let path = NSTemporaryDirectory() + "idx-\(UUID().uuidString).sqlite"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let index = try RepositoryIndex(path: path)
        try index.addSnapshot(id: "b", name: "n", timeNanos: 2, plaintext: [2])
        try index.addSnapshot(id: "a", name: "n", timeNanos: 1, plaintext: [1])
        XCTAssertEqual(try index.snapshots().map(\.id), ["a", "b"])
        try index.removeSnapshot(id: "a")
        XCTAssertEqual(try index.snapshots().map(\.id), ["b"])
        try index.cacheTree(id(9), [7, 7])
        XCTAssertEqual(try index.cachedTree(id(9)), [7, 7])
        XCTAssertNil(try index.cachedTree(id(8)))
    }

    /// Attributes: found by key, name and value without decoding, with the fields asked for; a
    /// snapshot's attributes go with it, and a row read back and added to another object keeps them.
    func testSnapshotAttributesAreIndexedAndGoWithTheirSnapshot() throws {
        let path = NSTemporaryDirectory() + "idx-\(UUID().uuidString).sqlite"
        defer { RepositoryIndex.destroy(path: path) }
        let index = try RepositoryIndex(path: path)
        func row(_ id: String, _ name: String, _ time: Int64, _ attributes: [String: String]) -> SnapshotRow {
            SnapshotRow(id: id, name: name, timeNanos: time, attributes: attributes, plaintext: [1])
        }
        try index.addSnapshotObject(LoadedSnapshotObject(name: "cat", kind: .catalogue, size: 10, snapshots: 5), rows: [
            row("s1", "w", 30, ["file": "B", "hash": "h1", "size": "7"]),
            row("s2", "w", 10, ["file": "A", "hash": "h2"]),
            row("s3", "w", 20, ["file": "B", "hash": "h3"]),
            row("s4", "w", 40, ["file": "C"]),                  // no hash: not selected when it is required
            row("s5", "other", 50, ["file": "A", "hash": "h5"]),
        ])
        let all = AttributeQuery(name: "w", key: "file", requiring: ["hash"])
        XCTAssertEqual(try index.snapshots(all, fields: ["hash", "size"]), [
            AttributedSnapshot(id: "s2", timeNanos: 10, value: "A", attributes: ["hash": "h2"]),
            AttributedSnapshot(id: "s3", timeNanos: 20, value: "B", attributes: ["hash": "h3"]),
            AttributedSnapshot(id: "s1", timeNanos: 30, value: "B", attributes: ["hash": "h1", "size": "7"]),
        ])
        XCTAssertEqual(try index.snapshots(AttributeQuery(name: "w", key: "file")).map(\.id), ["s2", "s3", "s1", "s4"])
        XCTAssertEqual(try index.snapshots(AttributeQuery(name: "w", key: "file", value: "B")).map(\.id), ["s3", "s1"])
        XCTAssertEqual(try index.snapshotCount(all), 3)
        XCTAssertEqual(try index.newestSnapshot(all, fields: ["hash"])?.attributes, ["hash": "h1"])
        XCTAssertEqual(try index.newestSnapshot(AttributeQuery(name: "w", key: "file", valueGlob: "[A]"))?.id, "s2")
        XCTAssertNil(try index.newestSnapshot(AttributeQuery(name: "nobody", key: "file")))
        XCTAssertEqual(try index.snapshotRows(attribute: "file", value: "A").map(\.id), ["s2", "s5"])

        try index.removeSnapshot(id: "s1")
        XCTAssertEqual(try index.snapshots(all).map(\.id), ["s2", "s3"])
        let readBack = try XCTUnwrap(try index.snapshotRow(id: "s3"))
        XCTAssertEqual(readBack.attributes, [:])
        try index.addSnapshotObject(LoadedSnapshotObject(name: "s3", kind: .single, size: 1, snapshots: 1), rows: [readBack])
        XCTAssertEqual(try index.snapshots(all, fields: ["hash"]).map(\.attributes), [["hash": "h2"], ["hash": "h3"]])
        XCTAssertEqual(try index.removeSnapshotObjects(["cat"]), ["s2", "s4", "s5"])
        XCTAssertEqual(try index.snapshots(all).map(\.id), ["s3"])
        try index.reset()
        XCTAssertEqual(try index.snapshots(all), [])
    }
}

final class RepositoryIndexNewestAttributeTests: XCTestCase {
    /// `pg status` asks for the newest WAL segment on every call: the answer comes from the newest
    /// snapshots backwards through an index, never from sorting every file the archive holds; ties
    /// in time go to the greater value, then id; `fields` come with the answer.
    func testNewestIsFoundThroughTheTimeIndexWithoutASort() throws {
        let path = NSTemporaryDirectory() + "idx-\(UUID().uuidString).sqlite"
        defer { RepositoryIndex.destroy(path: path) }
        let index = try RepositoryIndex(path: path)
        func row(_ id: String, _ time: Int64, _ file: String, hash: String? = "h") -> SnapshotRow {
            var a = ["file": file]
            a["hash"] = hash
            return SnapshotRow(id: id, name: "w", timeNanos: time, attributes: a, plaintext: [1])
        }
        var rows = (0..<3000).map { row(String(format: "s%05d", $0), Int64($0) * 10, String(format: "%08X", $0)) }
        rows += [row("t1", 40_000, "00000A00"), row("t2", 40_000, "00000A01"), row("t0", 40_000, "00000A01"),
                 row("late", 50_000, "00000001.history"), row("nohash", 60_000, "00000B00", hash: nil)]
        try index.addSnapshotObject(LoadedSnapshotObject(name: "cat", kind: .catalogue, size: 1, snapshots: rows.count), rows: rows)
        try index.addSnapshotObject(LoadedSnapshotObject(name: "o", kind: .single, size: 1, snapshots: 1),
                                    rows: [SnapshotRow(id: "other", name: "v", timeNanos: 70_000, attributes: ["file": "FFFFFFFF", "hash": "x"], plaintext: [1])])
        let segments = AttributeQuery(name: "w", key: "file", valueGlob: String(repeating: "[0-9A-F]", count: 8), requiring: ["hash"])
        let newest = try XCTUnwrap(try index.newestSnapshot(segments, fields: ["hash"]))
        XCTAssertEqual(newest.id, "t2", "the newest time; of two equal times the greater value, then the greater id")
        XCTAssertEqual(newest.value, "00000A01")
        XCTAssertEqual(newest.attributes, ["hash": "h"])
        XCTAssertEqual(try index.newestSnapshot(AttributeQuery(name: "w", key: "file"))?.id, "nohash")
        XCTAssertEqual(try index.newestSnapshot(AttributeQuery(name: "w", key: "file", requiring: ["hash"]))?.id, "late")
        XCTAssertEqual(try index.newestSnapshot(AttributeQuery(name: "w", key: "file", value: "00000005"))?.id, "s00005")
        XCTAssertNil(try index.newestSnapshot(AttributeQuery(name: "w", key: "file", value: "nothing")))

        let plan = try index.newestSnapshotPlan(segments)
        XCTAssertTrue(plan.contains("snapshots_name_time"), plan)
        XCTAssertFalse(plan.contains("TEMP B-TREE"), "no sort of every row: \(plan)")
        XCTAssertFalse(plan.contains("SCAN"), "no scan of a table: \(plan)")
    }
}

final class RepositoryIndexBatchLookupTests: XCTestCase {
    func id(_ n: UInt8) -> ChunkID { ChunkID(bytes: [UInt8](repeating: n, count: 32))! }
    func packID(_ n: UInt8) -> PackID { PackID(bytes: [UInt8](repeating: n, count: 32))! }

    /// The batched lookup answers as the single one, in order, nil for unknown ids, and leaves the connection usable for writes.
    func testBatchLookupMatchesSingleLookups() throws {
        let path = NSTemporaryDirectory() + "idx-\(UUID().uuidString).sqlite"
        defer { RepositoryIndex.destroy(path: path) }
        let index = try RepositoryIndex(path: path)
        try index.addPacks([IndexedPack(id: packID(1), type: .data, size: 1000, entries: [
            BlobEntry(type: .data, id: id(2), offset: 0, length: 100, rawLength: 200),
            BlobEntry(type: .data, id: id(3), offset: 100, length: 50, rawLength: 60, base: id(2)),
            BlobEntry(type: .tree, id: id(4), offset: 150, length: 10, rawLength: 10),
        ])], indexed: false)
        let ids = [id(3), id(9), id(2), id(4), id(3)]
        let batch = try index.lookup(ids, type: .data)
        XCTAssertEqual(batch, try ids.map { try index.lookup($0, type: .data) })
        XCTAssertEqual(batch[0]?.base, id(2))
        XCTAssertNil(batch[1])
        XCTAssertNil(batch[3], "a tree blob is not a data blob")
        XCTAssertEqual(try index.lookup([], type: .data), [])
        // No read transaction left open: a write on the same connection works.
        try index.addPacks([IndexedPack(id: packID(5), type: .data, size: 10, entries: [BlobEntry(type: .data, id: id(6), offset: 0, length: 10, rawLength: 10)])], indexed: false)
        XCTAssertNotNil(try index.lookup([id(6)], type: .data)[0])
    }
}

/// Which SQLite errors let a cache be thrown away (a shared cache is deleted only when its file is damaged).
final class SQLiteErrorClassificationTests: XCTestCase {
    func testOnlyCorruptionAndNotADatabaseMeanADamagedFile() {
        // SQLITE_CORRUPT 11 (and SQLITE_CORRUPT_VTAB 267), SQLITE_NOTADB 26.
        for code: Int32 in [11, 267, 26] { XCTAssertTrue(SQLiteError(code: code, message: "").meansDamagedFile, "\(code)") }
        // SQLITE_BUSY 5, SQLITE_LOCKED 6, SQLITE_IOERR 10 (and IOERR_SHORT_READ 522), SQLITE_FULL 13, SQLITE_CANTOPEN 14, SQLITE_BUSY_SNAPSHOT 517.
        for code: Int32 in [5, 6, 10, 522, 13, 14, 517] { XCTAssertFalse(SQLiteError(code: code, message: "").meansDamagedFile, "\(code)") }
    }
}

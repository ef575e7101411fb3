import CairnFormat
import CairnIndex
import CairnTestSupport
import Foundation
import XCTest

/// Emptying the cache (`index rebuild`, a cache of another schema) stays within the disk the
/// cache already takes: SQLite as Debian builds it zeroes every freed page, which put a copy of
/// the whole database in its WAL.
final class RepositoryIndexResetTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws { directory = try temporaryDirectory("index-reset") }

    private func size(_ path: String) throws -> Int {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    }

    /// Packs of 1,000 random blobs each, in objects of 10 packs.
    private func load(_ index: RepositoryIndex, packs: Int, seed: UInt64) throws -> [ChunkID] {
        var random = SplitMix64(seed: seed)
        var ids: [ChunkID] = []
        let load = try IndexBulkLoad(index: index, directory: directory)
        for p in 0..<packs {
            let entries = (0..<1000).map { i in
                BlobEntry(type: .data, id: ChunkID(words: random.next(), random.next(), random.next(), random.next()),
                          offset: UInt64(i * 100), length: 100, rawLength: 200)
            }
            ids.append(entries[0].id)
            let pack = IndexedPack(id: PackID(words: random.next(), random.next(), random.next(), random.next()), type: .data,
                                   size: 100_064, entries: entries)
            try load.add([pack], indexed: true, object: ("object-\(seed)-\(p / 10)", 10))
        }
        try load.finish()
        return ids
    }

    func testEmptyingALargeCacheWritesAWALFarSmallerThanTheCache() throws {
        let path = directory + "/index.sqlite"
        let index = try RepositoryIndex(path: path)
        let first = try load(index, packs: 500, seed: 1)
        // Another process sharing the cache, open across the reset.
        let other = try RepositoryIndex(path: path)
        XCTAssertNotNil(try other.lookup(first[0], type: .data))

        let database = try size(path)
        XCTAssertGreaterThan(database, 24 << 20, "a cache large enough for the WAL to tell")
        try index.reset()
        let wal = try size(path + "-wal")
        XCTAssertLessThan(wal, database / 4, "emptying a \(database)-byte cache wrote a \(wal)-byte WAL")

        // Still one cache, for every process: the other one sees it empty, then filled again.
        XCTAssertFalse(try other.hasBlobLocations())
        XCTAssertEqual(try other.indexObjectNames(), [])
        let second = try load(index, packs: 20, seed: 2)
        XCTAssertNotNil(try other.lookup(second[19], type: .data))
        XCTAssertNil(try other.lookup(first[0], type: .data))
        XCTAssertEqual(try other.indexObjectNames().count, 2)
    }
}

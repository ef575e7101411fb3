import CairnFormat
import CairnIndex
import Foundation
import CairnTestSupport
import XCTest

/// `IndexBulkLoad` leaves the cache as loading the same index objects one at a time does, and a
/// load that stops half way is forgotten, not trusted.
final class IndexBulkLoadTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws { directory = try temporaryDirectory("bulk-load") }

    /// Seeded ids (CairnTestSupport's SplitMix64), so a failure reproduces.
    struct Generator {
        var random: SplitMix64
        init(state: UInt64) { random = SplitMix64(seed: state) }
        mutating func next() -> UInt64 { random.next() }
        mutating func id() -> ChunkID { ChunkID(words: next(), next(), next(), next()) }
    }

    /// Index objects of random packs in which blobs repeat: the same blob whole in several packs,
    /// as a tree and as data, as a delta before a whole copy, as a delta whose base no pack holds
    /// and again as a delta whose base is whole.
    func objects() -> (objects: [(name: String, packs: [IndexedPack])], ids: [ChunkID]) {
        var g = Generator(state: 42)
        var ids: [ChunkID] = []
        var packs: [IndexedPack] = []
        let bases = (0..<50).map { _ in g.id() }
        let missingBase = g.id()
        for p in 0..<60 {
            var entries: [BlobEntry] = []
            var offset: UInt64 = 0
            func add(_ id: ChunkID, _ type: BlobType = .data, base: ChunkID? = nil) {
                let length = UInt32(100 + g.next() % 1000)
                entries.append(BlobEntry(type: type, id: id, offset: offset, length: length, rawLength: length * 2, base: base))
                offset += UInt64(length)
            }
            if p == 0 { for b in bases { add(b) } }
            for _ in 0..<60 {
                let id = g.id(); ids.append(id); add(id)
            }
            if p > 0 {
                // Repeats of blobs loaded before: whole again, and as a tree.
                for _ in 0..<10 { add(ids[Int(g.next() % UInt64(ids.count - 60))]) }
                add(ids[Int(g.next() % UInt64(ids.count))], .tree)
            }
            if p % 3 == 1 {
                // A delta now, a whole copy in the next pack.
                let id = g.id(); ids.append(id)
                add(id, base: bases[p % 50])
                add(g.id(), base: missingBase)
            }
            if p % 3 == 2, let last = packs.last?.entries.last(where: { $0.base != nil && $0.base != missingBase }) {
                add(last.id)
                // A delta whose base is missing, then one whose base is whole.
                let id = g.id(); ids.append(id)
                add(id, base: missingBase)
                add(id, base: bases[(p + 7) % 50])
            }
            packs.append(IndexedPack(id: PackID(reinterpreting: g.id()), type: .data, size: offset + 64, entries: entries))
        }
        ids += bases
        // The same pack named by two objects (a merge), and objects of a few packs each.
        var out: [(String, [IndexedPack])] = []
        for (n, start) in stride(from: 0, to: packs.count, by: 7).enumerated() {
            var these = Array(packs[start..<min(start + 7, packs.count)])
            if n > 0 { these.append(packs[start - 1]) }
            out.append(("object-\(n)", these))
        }
        return (out, ids)
    }

    func contents(_ index: RepositoryIndex, _ ids: [ChunkID]) throws -> [String] {
        var out: [String] = []
        for type in [BlobType.data, .tree] {
            for ((id, location), usable) in zip(zip(ids, try index.lookup(ids, type: type)), try index.contains(ids, type: type)) {
                out.append("\(id.short) \(type) \(location.map { "\($0)" } ?? "absent") \(usable)")
            }
        }
        return out
    }

    func testTheSameRowsAsOneObjectAtATime() throws {
        let (objects, ids) = objects()
        let single = try RepositoryIndex(path: directory + "/single.sqlite")
        for o in objects { try single.addIndexObject(o.name, IndexDelta(packs: o.packs), size: o.packs.count) }

        // Pieces of 5 entries: buckets hold more, so several sorted pieces go into one bucket's range.
        for piece in [IndexBulkLoad.defaultPieceEntries, 5] {
            let index = try RepositoryIndex(path: directory + "/bulk-\(piece).sqlite")
            let load = try IndexBulkLoad(index: index, directory: directory, pieceEntries: piece)
            for o in objects { try load.add(o.packs, indexed: true, object: (o.name, o.packs.count)) }
            XCTAssertEqual(try index.indexObjectNames(), [], "objects count as loaded only when the load ends")
            try load.finish()
            XCTAssertEqual(load.entryCount, objects.reduce(0) { $0 + $1.packs.reduce(0) { $0 + $1.entries.count } })
            XCTAssertEqual(try index.indexObjects().map(\.name), try single.indexObjects().map(\.name))
            XCTAssertEqual(try index.indexObjects().map(\.size), try single.indexObjects().map(\.size))
            let expected = try contents(single, ids), got = try contents(index, ids)
            XCTAssertEqual(got.count, expected.count)
            for (g, e) in zip(got, expected) where g != e { XCTFail("piece \(piece): \(g) != \(e)") }
            let t = try index.totals(), u = try single.totals()
            XCTAssertEqual([t.blobCount, t.dataBlobCount, t.rawBytes, t.storedBlobBytes, t.packCount, t.packBytes],
                           [u.blobCount, u.dataBlobCount, u.rawBytes, u.storedBlobBytes, u.packCount, u.packBytes])
            XCTAssertFalse(try index.repairInterruptedLoad(), "a finished load leaves nothing to repair")
            XCTAssertTrue(try index.hasBlobLocations())
            // Forgetting an object works on bulk-loaded rows as on the others.
            XCTAssertEqual(try index.forgetIndexObjects(["object-3"]), try single.forgetIndexObjects(["object-3"]))
            XCTAssertEqual(try contents(index, ids), try contents(single, ids))
            try single.addIndexObject(objects[3].name, IndexDelta(packs: objects[3].packs), size: objects[3].packs.count)
        }
    }

    func testOnAWarmCacheUnindexedPacksBecomeIndexedAndKnownRowsStay() throws {
        let (objects, ids) = objects()
        let single = try RepositoryIndex(path: directory + "/single.sqlite")
        let index = try RepositoryIndex(path: directory + "/bulk.sqlite")
        // A backup's pack not yet in an index object, and the first objects loaded one at a time.
        for i in [single, index] {
            try i.addPacks([objects[5].packs[0]], indexed: false)
            for o in objects.prefix(3) { try i.addIndexObject(o.name, IndexDelta(packs: o.packs), size: 1) }
        }
        for o in objects.dropFirst(3) { try single.addIndexObject(o.name, IndexDelta(packs: o.packs), size: 1) }
        let load = try IndexBulkLoad(index: index, directory: directory)
        for o in objects.dropFirst(3) { try load.add(o.packs, indexed: true, object: (o.name, 1)) }
        try load.finish()
        XCTAssertEqual(try index.unindexedPacks(), [])
        XCTAssertEqual(try contents(index, ids), try contents(single, ids))
        XCTAssertEqual(try index.indexObjectNames(), try single.indexObjectNames())
    }

    func testALoadThatStoppedIsForgottenAndOneRunningIsLeftAlone() throws {
        let (objects, ids) = objects()
        let path = directory + "/index.sqlite"
        let index = try RepositoryIndex(path: path)
        // A backup's unindexed pack survives the repair (a running backup still has to name it).
        let unindexed = IndexedPack(id: PackID(reinterpreting: ChunkID(words: 1, 2, 3, 4)), type: .data, size: 100,
                                    entries: [BlobEntry(type: .data, id: ChunkID(words: 5, 6, 7, 8), offset: 0, length: 50, rawLength: 50)])
        try index.addPacks([unindexed], indexed: false)
        try index.addIndexObject(objects[0].name, IndexDelta(packs: objects[0].packs))
        XCTAssertFalse(try index.repairInterruptedLoad(), "no load: nothing to repair")

        var load: IndexBulkLoad? = try IndexBulkLoad(index: index, directory: directory)
        for o in objects.dropFirst() { try load?.add(o.packs, indexed: true, object: (o.name, 1)) }
        // Another process (another connection) sees a load under way and leaves it alone.
        let other = try RepositoryIndex(path: path)
        XCTAssertFalse(try other.repairInterruptedLoad())
        XCTAssertTrue(try other.hasBlobLocations())

        // The loader stops without finishing (its lock goes with it, as with a kill): its mark stays.
        load = nil
        XCTAssertEqual(try other.indexObjectNames(), [objects[0].name])
        XCTAssertTrue(try other.repairInterruptedLoad())
        XCTAssertEqual(try other.indexObjectNames(), [], "every index object loads again")
        XCTAssertTrue(try other.contents(ids).allSatisfy { $0 == nil }, "no location from index objects is kept")
        XCTAssertEqual(try other.unindexedPacks(), [unindexed])
        XCTAssertFalse(try other.repairInterruptedLoad(), "repaired once")

        // Loading again gives the whole index.
        let again = try IndexBulkLoad(index: other, directory: directory)
        for o in objects { try again.add(o.packs, indexed: true, object: (o.name, 1)) }
        try again.finish()
        XCTAssertEqual(try other.indexObjectNames().count, objects.count)
        let single = try RepositoryIndex(path: directory + "/single.sqlite")
        try single.addPacks([unindexed], indexed: false)
        for o in objects { try single.addIndexObject(o.name, IndexDelta(packs: o.packs), size: 1) }
        XCTAssertEqual(try contents(other, ids), try contents(single, ids))
    }

    /// A load's entries carry the pack row numbers it took when it added their packs. Another
    /// process sharing the cache that drops pack rows before the load finishes (a sync after
    /// another machine's prune) frees those numbers, and SQLite gives them to the next packs
    /// recorded: the cache must never then place a blob in another pack, nor count as loaded an
    /// object whose packs it no longer holds (the next sync would never load it again).
    func testPackRowsDroppedByAnotherProcessBeforeTheLoadFinishesAreNotTrusted() throws {
        let (objects, ids) = objects()
        let path = directory + "/index.sqlite"
        let index = try RepositoryIndex(path: path)
        let load = try IndexBulkLoad(index: index, directory: directory)
        for o in objects { try load.add(o.packs, indexed: true, object: (o.name, 1)) }

        let other = try RepositoryIndex(path: path)
        try other.dropBlobLocations()
        let packCount = objects.reduce(0) { $0 + $1.packs.count }
        let intruders = (0..<packCount).map { n in
            IndexedPack(id: PackID(reinterpreting: ChunkID(words: 9, 9, 9, UInt64(n))), type: .data, size: 100,
                        entries: [BlobEntry(type: .data, id: ChunkID(words: 7, 7, 7, UInt64(n)), offset: 0, length: 50, rawLength: 50)])
        }
        try other.addPacks(intruders, indexed: false)
        try load.finish()

        let single = try RepositoryIndex(path: directory + "/single.sqlite")
        for o in objects { try single.addIndexObject(o.name, IndexDelta(packs: o.packs), size: 1) }
        let got = try index.contents(ids), expected = try single.contents(ids)
        let misplaced = zip(got, expected).filter { $0.0 != nil && $0.0 != $0.1 }
        XCTAssertEqual(misplaced.count, 0, "blobs placed in another pack, e.g. \(misplaced.first.map { "\($0.0!) instead of \($0.1.map { "\($0)" } ?? "absent")" } ?? "")")
        let loaded = Set(try index.indexObjectNames())
        var unlocated: [String] = []
        for o in objects where loaded.contains(o.name) {
            for p in o.packs {
                let found = try index.lookup(p.entries.map(\.id), type: .data)
                for (e, f) in zip(p.entries, found) where e.type == .data && f == nil { unlocated.append("\(o.name): \(e.id.short)") }
            }
        }
        XCTAssertEqual(unlocated, [], "objects counted as loaded whose blobs have no location")
        XCTAssertEqual(try index.unindexedPacks().count, intruders.count, "the other process's packs stay")

        // The objects not counted as loaded load again (as the next sync does): the whole index.
        let again = try IndexBulkLoad(index: index, directory: directory)
        for o in objects where !loaded.contains(o.name) { try again.add(o.packs, indexed: true, object: (o.name, 1)) }
        try again.finish()
        XCTAssertEqual(try index.contents(ids), expected)
        XCTAssertEqual(Set(try index.indexObjectNames()), Set(objects.map(\.name)))
    }
}

private extension RepositoryIndex {
    func contents(_ ids: [ChunkID]) throws -> [BlobLocation?] { try lookup(ids, type: .data) + lookup(ids, type: .tree) }
}

@testable import CairnEngine
@testable import CairnRepository
import CairnCrypto
import CairnFormat
@testable import CairnIndex
import CairnStorage
import CairnTestSupport
import Foundation
import Synchronization
import XCTest

/// A store whose deletes can be refused (append-only credentials, a writer
/// killed between a merge's put and its deletes).
final class DeleteRefusingStore: ForwardingStore, @unchecked Sendable {
    /// Deletes still allowed before every further one is refused.
    let deletesAllowed = Mutex(Int.max)
    init(_ base: MemoryStore) { super.init(base) }
    override var listsEveryCompletedPut: Bool { true }
    override func delete(_ key: ObjectKey) async throws {
        let allowed = deletesAllowed.withLock { n -> Bool in
            guard n > 0 else { return false }
            n -= 1; return true
        }
        guard allowed else { throw StorageError.permissionDenied(key.path) }
        try await base.delete(key)
    }
}

/// Metadata compaction (format-spec v2.md, #16.1): the number of index and
/// snapshot objects stays bounded as commits accumulate, every snapshot
/// survives every merge (stopped at any point, replayed, forgotten), and a
/// repository of format 1 gets no object of format 2 until it is migrated.
final class MetadataCompactionTests: XCTestCase {
    static func make(_ store: any ObjectStore, formatVersion: UInt16 = ObjectEnvelope.newestFormatVersion) async throws -> Repository {
        var options = Repository.CreateOptions()
        options.scrypt = ScryptParameters(logN: 10, r: 8, p: 1)
        options.packSize = 1 << 16
        options.formatVersion = formatVersion
        return try await Repository.create(store: store, passphrase: TestRepository.passphrase, cacheBase: Self.newCache(), options: options)
    }

    static func newCache() -> String { TestCacheDirectory.make() }

    static func open(_ store: any ObjectStore) async throws -> Repository {
        try await Repository.open(store: store, passphrase: TestRepository.passphrase, cacheBase: newCache())
    }

    /// `count` small stream backups, each followed by the merge a command runs under its lock.
    @discardableResult
    static func commit(_ repo: Repository, count: Int, from start: Int = 0, compact: Bool = true) async throws -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for i in start..<(start + count) {
            let bytes = pseudoRandomBytes(200 + i % 97, seed: UInt64(i) &+ 1)
            let id = try await backupStream(repo, bytes, name: "s\(i % 3)").snapshotID
            out[id] = bytes
            if compact { _ = try await MetadataCompactor(repo: repo).run() }
        }
        return out
    }

    static func envelopeVersions(_ store: MemoryStore, _ namespace: ObjectNamespace) async throws -> [UInt16] {
        var out: [UInt16] = []
        for key in try await store.list(namespace) {
            let b = try await store.get(key)
            out.append(UInt16(b[4]) | UInt16(b[5]) << 8)
        }
        return out
    }

    /// The policy alone, over 20,000 commits of 500-byte objects (two weeks of one WAL push a
    /// minute): the object count stays logarithmic and each byte is rewritten a few times.
    func testSelectionKeepsTheObjectCountBoundedAndRewritesLittle() {
        for policy in [MetadataCompactor.Policy.snapshots, .index] {
            var objects: [(name: String, size: Int)] = []
            var next = 0, written = 0, most = 0
            for _ in 0..<20_000 {
                objects.append(("o\(next)", 500)); next += 1; written += 500
                if let pick = MetadataCompactor.select(objects, policy: policy) {
                    let picked = Set(pick)
                    let size = objects.filter { picked.contains($0.name) }.reduce(0) { $0 + $1.size }
                    objects.removeAll { picked.contains($0.name) }
                    objects.append(("o\(next)", size)); next += 1; written += size
                }
                most = max(most, objects.count)
            }
            XCTAssertLessThan(most, 120, "objects at once under \(policy)")
            XCTAssertLessThan(Double(written) / Double(20_000 * 500), 6, "write amplification under \(policy)")
            XCTAssertEqual(objects.reduce(0) { $0 + $1.size }, 20_000 * 500, "nothing lost")
        }
        // Fewer than fanIn small objects: nothing to do; objects at the cap are never picked.
        XCTAssertNil(MetadataCompactor.select((0..<7).map { ("a\($0)", 10) }, policy: .index))
        XCTAssertNil(MetadataCompactor.select((0..<40).map { ("a\($0)", 8 << 20) }, policy: .index))
    }

    func testManyCommitsLeaveFewObjectsAndEverySnapshotSurvives() async throws {
        let mem = MemoryStore()
        let repo = try await Self.make(mem)
        let data = try await Self.commit(repo, count: 150)
        let snapshotObjects = try await mem.list(.snapshots).count, indexObjects = try await mem.list(.index).count
        XCTAssertLessThan(snapshotObjects, 40, "150 commits")
        XCTAssertLessThan(indexObjects, 40, "150 commits")
        let versions = try await Self.envelopeVersions(mem, .snapshots)
        XCTAssertTrue(versions.contains(2), "catalogues written")

        // Another machine with an empty cache finds every snapshot once, and restores them.
        let fresh = try await Self.open(mem)
        XCTAssertEqual(Set(try fresh.snapshots().map(\.id.hex)), Set(data.keys))
        XCTAssertEqual(try fresh.snapshots().count, 150)
        XCTAssertEqual(try fresh.snapshots(name: "s1").count, 50)
        for (id, bytes) in data.sorted(by: { $0.key < $1.key }).prefix(5) {
            let back = try await restoreStream(fresh, id)
            XCTAssertEqual(back, bytes)
        }
        let latest = try fresh.resolveSnapshot("latest", name: "s2")
        XCTAssertEqual(try fresh.snapshots(name: "s2").last?.id, latest.id)
        // The writer's own cache agrees with the store.
        XCTAssertEqual(Set(try repo.snapshots().map(\.id.hex)), Set(data.keys))
        var o = ScrubOptions(); o.readData = true
        let report = try await Checker(repo: fresh, options: o).run()
        XCTAssertTrue(report.isClean, "\(report.objectProblems) \(report.blobProblems)")
        XCTAssertEqual(report.snapshotsChecked, 150)
    }

    /// A merge stopped after its merged object is stored and before it deleted what it merged
    /// (a kill, or a store refusing deletes) leaves duplicates, never a loss; merging then pauses
    /// for a day instead of adding an object per command.
    func testAMergeStoppedBeforeItsDeletesLosesNothing() async throws {
        let mem = MemoryStore(), store = DeleteRefusingStore(mem)
        let repo = try await Self.make(store)
        let data = try await Self.commit(repo, count: 40, compact: false)
        store.deletesAllowed.withLock { $0 = 0 }
        func objectCount() async throws -> Int { try await mem.list(.snapshots).count + mem.list(.index).count }
        let before = try await objectCount()
        do {
            _ = try await MetadataCompactor(repo: repo).run()
            XCTFail("a refused delete is an error")
        } catch StorageError.permissionDenied {}
        let after = try await objectCount()
        XCTAssertEqual(after, before + 1, "one merged object beside what it merged")
        let paused = try await MetadataCompactor(repo: repo).run()
        XCTAssertEqual(paused, MetadataCompactor.Outcome(), "paused")
        let stillAfter = try await objectCount()
        XCTAssertEqual(stillAfter, after, "nothing more added")

        let fresh = try await Self.open(mem)
        XCTAssertEqual(try fresh.snapshots().count, 40, "each snapshot listed once")
        XCTAssertEqual(Set(try fresh.snapshots().map(\.id.hex)), Set(data.keys))
        // Once deletes work again, a later merge folds the duplicates.
        store.deletesAllowed.withLock { $0 = .max }
        let other = try await Self.open(store)
        for _ in 0..<4 { _ = try await MetadataCompactor(repo: other).run() }
        let folded = try await mem.list(.snapshots).count
        XCTAssertLessThan(folded, 10)
        let last = try await Self.open(mem)
        XCTAssertEqual(Set(try last.snapshots().map(\.id.hex)), Set(data.keys))
    }

    /// Writers that merge the same objects at once each store a catalogue of them (four here:
    /// each writer's cache still lists the inputs the others deleted). The next merge keeps one
    /// of the copies and writes nothing, whichever writers run it: copies neither stay (four
    /// objects of one tier under `fanIn` were never merged again) nor multiply (the long haul's
    /// four writers re-merged the same pair of copies at once, one more copy each).
    func testWritersMergingTheSameObjectsAtOnceLeaveOneCopy() async throws {
        let mem = MemoryStore()
        let repo = try await Self.make(mem)
        let data = try await Self.commit(repo, count: 20, compact: false)
        var writers: [Repository] = []
        for _ in 0..<4 { writers.append(try await Self.open(mem)) }
        for w in writers {
            let merged = try await MetadataCompactor(repo: w).mergeSnapshotObjects()
            XCTAssertEqual(merged, 20, "each writer merges the 20 single snapshots its cache lists")
        }
        let copies = try await mem.list(.snapshots)
        XCTAssertEqual(copies.count, 4, "one catalogue per writer, all holding the same snapshots")

        for w in writers { try await w.sync() }
        for w in writers { _ = try await MetadataCompactor(repo: w).mergeSnapshotObjects() }
        let left = try await mem.list(.snapshots)
        XCTAssertEqual(left.count, 1, "one copy kept")
        XCTAssertEqual(left.first?.name, copies.map(\.name).min(), "the copy with the smallest name, nothing new written")
        for w in writers {
            try await w.sync()
            XCTAssertEqual(Set(try w.snapshots().map(\.id.hex)), Set(data.keys))
            let again = try await MetadataCompactor(repo: w).mergeSnapshotObjects()
            XCTAssertEqual(again, 0, "nothing left to merge")
        }
        let fresh = try await Self.open(mem)
        XCTAssertEqual(try fresh.snapshots().count, 20, "each snapshot listed once")
        XCTAssertEqual(Set(try fresh.snapshots().map(\.id.hex)), Set(data.keys))
        for (id, bytes) in data.sorted(by: { $0.key < $1.key }).prefix(3) {
            let back = try await restoreStream(fresh, id)
            XCTAssertEqual(back, bytes)
        }
    }

    /// The same for index objects: writers that merge the same index objects at once each store a
    /// delta naming the same packs (sealed under its own nonce, so under its own name). Here the
    /// four writers' deletes are refused, so each reads every input and stores its copy, as four
    /// writers do when their merges overlap. The next merge keeps the copy whose name sorts first
    /// and writes nothing; writers whose caches still list the folded copies find them gone and
    /// fold nothing more; every blob is still found.
    func testWritersMergingTheSameIndexObjectsAtOnceLeaveOneCopy() async throws {
        let mem = MemoryStore()
        let repo = try await Self.make(mem)
        let data = try await Self.commit(repo, count: 20, compact: false)
        let inputs = Set(try await mem.list(.index).map(\.name))
        XCTAssertGreaterThanOrEqual(inputs.count, 20, "one index object per commit")
        let gate = DeleteRefusingStore(mem)
        gate.deletesAllowed.withLock { $0 = 0 }
        var stale: [Repository] = []
        for _ in 0..<4 { stale.append(try await Self.open(gate)) }
        for w in stale {
            do {
                _ = try await MetadataCompactor(repo: w).mergeIndexObjects()
                XCTFail("the merge's deletes were refused")
            } catch {}
        }
        let copies = Set(try await mem.list(.index).map(\.name)).subtracting(inputs)
        XCTAssertEqual(copies.count, 4, "one merged index object per writer, all naming the same packs")
        var sizes = Set<Int>()
        for name in copies { sizes.insert(try await mem.get(ObjectKey(.index, name)).count) }
        XCTAssertEqual(sizes.count, 1, "copies seal the same delta")

        gate.deletesAllowed.withLock { $0 = Int.max }
        var writers: [Repository] = []
        for _ in 0..<4 { writers.append(try await Self.open(gate)) }
        let folded = try await MetadataCompactor(repo: writers[0]).mergeIndexObjects()
        XCTAssertEqual(folded, 3, "three copies folded")
        let left = Set(try await mem.list(.index).map(\.name))
        XCTAssertEqual(left.subtracting(inputs), [copies.min()!], "the copy with the smallest name kept, nothing new written")
        XCTAssertEqual(left.intersection(inputs), inputs, "objects that are no copies are left to the merge")
        // The other writers' caches still list the three copies: gone from the store, they are not
        // copies any more, and what these writers merge instead loses nothing.
        for w in writers.dropFirst() {
            let again = try await MetadataCompactor(repo: w).foldDuplicateIndexObjects(try w.index.indexObjects())
            XCTAssertNil(again, "copies already folded are not folded again")
            _ = try await MetadataCompactor(repo: w).mergeIndexObjects()
        }
        for _ in 0..<8 {
            try await writers[0].sync()
            _ = try await MetadataCompactor(repo: writers[0]).mergeIndexObjects()
        }
        let merged = try await mem.list(.index)
        XCTAssertEqual(merged.count, 1, "one index object left for the 20 commits")
        let fresh = try await Self.open(mem)
        for (id, bytes) in data.sorted(by: { $0.key < $1.key }) {
            let back = try await restoreStream(fresh, id)
            XCTAssertEqual(back, bytes)
        }
    }

    /// The cache only proposes copies: two index objects it takes for copies (here forged: the same
    /// size, the same member packs) that the store shows naming different packs are both kept. In
    /// the long haul, writers sharing one cache folded on its word alone and lost index objects.
    func testIndexObjectsTheCacheTakesForCopiesStayUnlessTheStoreShowsCopies() async throws {
        let mem = MemoryStore()
        let repo = try await Self.make(mem)
        let data = try await Self.commit(repo, count: 2, compact: false)
        let objects = try repo.index.indexObjects().map(\.name)
        XCTAssertEqual(objects.count, 2, "one index object per commit")
        try repo.index.withDatabase { d in
            try d.execute("UPDATE index_objects SET size=4096")
            try d.execute("DELETE FROM index_members WHERE object='\(objects[1])'")
            try d.execute("INSERT INTO index_members(object,pid) SELECT '\(objects[1])', pid FROM index_members WHERE object='\(objects[0])'")
        }
        XCTAssertEqual(try repo.index.indexObjectMembers(objects[0]), try repo.index.indexObjectMembers(objects[1]))
        let folded = try await MetadataCompactor(repo: repo).foldDuplicateIndexObjects(try repo.index.indexObjects())
        XCTAssertNil(folded, "the store shows two different objects")
        let left = try await mem.list(.index)
        XCTAssertEqual(Set(left.map(\.name)), Set(objects), "nothing deleted")
        let fresh = try await Self.open(mem)
        for (id, bytes) in data {
            let back = try await restoreStream(fresh, id)
            XCTAssertEqual(back, bytes)
        }
    }

    /// The same for catalogues: two the cache takes for copies (forged here: the same size and
    /// count, the same member rows) that hold different snapshots in the store are both kept. In
    /// the long haul, four writers sharing one cache lost 49 WAL snapshots to folds made on the
    /// cache's word alone.
    func testCataloguesTheCacheTakesForCopiesStayUnlessTheStoreShowsCopies() async throws {
        let mem = MemoryStore()
        let repo = try await Self.make(mem)
        let data = try await Self.commit(repo, count: 6, compact: false)
        let rows = try repo.index.snapshotRows().sorted { $0.id < $1.id }
        XCTAssertEqual(rows.count, 6)
        var names: [String] = []
        for part in [Array(rows.prefix(3)), Array(rows.suffix(3))] {
            let entries = part.map { SnapshotCatalogue.Entry(id: SnapshotID(hex: $0.id)!, plaintext: $0.plaintext) }
            names.append(try await repo.saveCatalogue(SnapshotCatalogue(entries: entries), rows: part))
        }
        try repo.index.withDatabase { d in
            try d.execute("UPDATE snapshot_objects SET size=5000 WHERE name IN ('\(names[0])','\(names[1])')")
            try d.execute("DELETE FROM snapshot_members WHERE object='\(names[1])'")
            try d.execute("INSERT INTO snapshot_members(object,sid) SELECT '\(names[1])', sid FROM snapshot_members WHERE object='\(names[0])'")
        }
        XCTAssertEqual(try repo.index.snapshotRows(inObject: names[0]).map(\.id), try repo.index.snapshotRows(inObject: names[1]).map(\.id))
        let compactor = MetadataCompactor(repo: repo)
        let folded = try await compactor.foldDuplicateSnapshotObjects(try repo.index.snapshotObjects().filter(\.complete))
        XCTAssertNil(folded, "the store shows two catalogues of different snapshots")
        let left = Set(try await mem.list(.snapshots).map(\.name))
        XCTAssertTrue(left.isSuperset(of: names), "neither catalogue deleted")
        // Without the single snapshot objects, the two catalogues alone still hold all six.
        for r in rows { try await mem.delete(ObjectKey(.snapshots, r.id)) }
        let fresh = try await Self.open(mem)
        XCTAssertEqual(Set(try fresh.snapshots().map(\.id.hex)), Set(data.keys))
    }

    /// Forget rewrites the catalogue holding a snapshot; the old catalogue put back (a replay)
    /// brings nothing forgotten back: hidden from every reader, reported by scrub, removed by prune.
    /// A cache an older `index rebuild` filled says 0 bytes for every index object: merged by that
    /// word, 32 objects of 8 MiB made one larger than any reader accepts. The cap holds by the
    /// bytes read; what does not fit is left alone (its real size recorded) and nothing is lost.
    func testAnIndexMergeStaysUnderTheCapWhenTheCacheHasNoSizes() async throws {
        let store = MemoryStore()
        let repo = try await Self.make(store)
        // The index policy at a small scale: 8 objects of ~10 KiB, together over a 64 KiB cap.
        let policy = MetadataCompactor.Policy(fanIn: 8, baseBytes: 8 << 10, capBytes: 64 << 10)
        var compactor = MetadataCompactor(repo: repo)
        compactor.indexPolicy = policy
        for o in 0..<policy.fanIn {
            let entries = (0..<260).map { i in
                BlobEntry(type: .data, id: SHA256.id(Array("object \(o) blob \(i)".utf8)), offset: UInt64(i * 64), length: 64, rawLength: 64)
            }.sorted { $0.id < $1.id }
            let pack = IndexedPack(id: SHA256.packID(Array("pack \(o)".utf8)), type: .data, size: 260 * 64, entries: entries)
            _ = try await repo.saveIndexDelta([pack])
        }
        var total: UInt64 = 0
        for key in try await store.list(.index) { total += try await store.size(key) ?? 0 }
        XCTAssertGreaterThan(total, UInt64(policy.capBytes), "together over the cap")
        for o in try repo.index.indexObjects() { try repo.index.setIndexObjectSize(o.name, 0) }

        let outcome = try await compactor.run()
        XCTAssertGreaterThanOrEqual(outcome.indexObjectsMerged, 2)
        XCTAssertLessThan(outcome.indexObjectsMerged, policy.fanIn)
        for key in try await store.list(.index) {
            let size = try await store.size(key) ?? 0
            XCTAssertLessThanOrEqual(size, UInt64(policy.capBytes), "index object \(key.name.prefix(8)) is \(size) bytes")
        }
        XCTAssertTrue(try repo.index.indexObjects().allSatisfy { $0.size > 0 }, "the object left alone has its real size")
        let fresh = try await Self.open(store)
        let view = try await StoreIndexView.load(fresh)
        XCTAssertEqual(view.packCount, policy.fanIn, "every pack is still named")
        // Run again: nothing over the cap is picked.
        _ = try await compactor.run()
        for key in try await store.list(.index) {
            let size = try await store.size(key) ?? 0
            XCTAssertLessThanOrEqual(size, UInt64(policy.capBytes))
        }
    }

    func testForgetRewritesACatalogueAndAReplayedOneHidesNothingForgotten() async throws {
        let mem = MemoryStore()
        let repo = try await Self.make(mem)
        let data = try await Self.commit(repo, count: 40)
        let catalogues = try await mem.list(.snapshots)
        var old: [ObjectKey: [UInt8]] = [:]
        for k in catalogues { old[k] = try await mem.get(k) }
        let doomed = try repo.snapshots(name: "s0").map(\.id.hex)
        XCTAssertEqual(doomed.count, 14)
        XCTAssertTrue(try repo.index.snapshotObjects(holding: doomed).keys.contains { !doomed.contains($0) }, "some held by catalogues")
        try await SnapshotForgetter(repo: repo).remove(doomed.compactMap { SnapshotID(hex: $0) })
        XCTAssertEqual(try repo.snapshots().count, 26)
        let afterForget = try await Self.open(mem)
        XCTAssertEqual(Set(try afterForget.snapshots().map(\.id.hex)), Set(data.keys).subtracting(doomed))

        // Every old catalogue back, byte for byte.
        for (k, b) in old { try await mem.put(k, b) }
        let replayed = try await Self.open(mem)
        XCTAssertEqual(Set(try replayed.snapshots().map(\.id.hex)), Set(data.keys).subtracting(doomed))
        XCTAssertThrowsError(try replayed.resolveSnapshot(doomed[0]))
        let report = try await Checker(repo: replayed, options: ScrubOptions()).run()
        XCTAssertEqual(Set(report.replayedSnapshots.map(\.snapshot)), Set(doomed))
        _ = try await Pruner(repo: replayed).run()
        let pruned = try await Self.open(mem)
        XCTAssertEqual(Set(try pruned.snapshots().map(\.id.hex)), Set(data.keys).subtracting(doomed))
        var o = ScrubOptions(); o.readData = true
        let clean = try await Checker(repo: pruned, options: o).run()
        XCTAssertTrue(clean.isClean, "\(clean.objectProblems) \(clean.replayedSnapshots.map(\.snapshot))")
        for id in Set(data.keys).subtracting(doomed).sorted().prefix(3) {
            let back = try await restoreStream(pruned, id)
            XCTAssertEqual(back, data[id])
        }
    }

    /// A repository of format 1 gets no catalogue and no merged record (a Cairn of format 1 must
    /// keep reading it); its index objects are merged (format 1 defines `supersedes`).
    func testFormatOneGetsNoObjectOfFormatTwo() async throws {
        let mem = MemoryStore()
        let repo = try await Self.make(mem, formatVersion: 1)
        XCTAssertEqual(repo.formatVersion, 1)
        try await Self.commit(repo, count: 40)
        let snapshotVersions = try await Self.envelopeVersions(mem, .snapshots), indexVersions = try await Self.envelopeVersions(mem, .index)
        let snapshotObjects = try await mem.list(.snapshots).count, indexObjects = try await mem.list(.index).count
        XCTAssertEqual(Set(snapshotVersions), [1])
        XCTAssertEqual(snapshotObjects, 40)
        XCTAssertLessThan(indexObjects, 20)
        XCTAssertEqual(Set(indexVersions), [1])
        let config = try await mem.get(.config)
        XCTAssertEqual(Array(config[4..<6]), [1, 0])
        let reopened = try await Self.open(mem)
        XCTAssertEqual(reopened.formatVersion, 1)
    }
}

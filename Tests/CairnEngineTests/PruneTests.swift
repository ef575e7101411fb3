@testable import CairnEngine
@testable import CairnRepository
import CairnFormat
import CairnRetention
import CairnStorage
import CairnTestSupport
import Foundation
import XCTest

final class PruneTests: XCTestCase {
    /// A prune that leaves no unused byte (so the repository can be checked for exactly clean).
    func pruneAll(_ repo: Repository) async throws -> PruneResult {
        var o = PruneOptions(); o.maxUnused = .bytes(0)
        return try await Pruner(repo: repo, options: o).run()
    }

    /// After forget + prune every kept snapshot restores byte for byte, the
    /// removed snapshots' unique chunks are gone from every pack, and the
    /// stored bytes drop by at least their size.
    func testForgetAndPruneRemovesUnreferencedDataOnly() async throws {
        var f = try await PruneFixture.make(count: 6)
        let before = try await f.storedBytes()
        let kept = Array(f.order.suffix(2))
        var keptChunks = Set<ChunkID>()
        for id in kept { keptChunks.formUnion(try await f.chunkIDs(id)) }
        var goneChunks = Set<ChunkID>()
        for id in f.order.prefix(4) { goneChunks.formUnion(try await f.chunkIDs(id)) }
        goneChunks.subtract(keptChunks)
        let removed = try await f.forgetAllBut(2)
        XCTAssertEqual(Set(removed), Set(f.order.prefix(4)))
        XCTAssertGreaterThan(goneChunks.count, 20)

        // No unused byte allowed: with the default 5 % a pack holding a little of the
        // forgotten data may stay (the layout depends on the repository's random chunker seed).
        let r = try await pruneAll(f.t.repo)
        XCTAssertGreaterThan(r.packsDeleted + r.packsRepacked, 0)
        XCTAssertTrue(r.indexRewritten)
        let after = try await f.storedBytes()
        // 4 × 60 kB of incompressible unique data went away.
        XCTAssertLessThan(after + 200_000, before, "stored \(before) → \(after)")
        XCTAssertEqual(r.bytesFreed, before - after)
        let stored = try await f.storedBlobIDs()
        XCTAssertTrue(stored.isDisjoint(with: goneChunks), "chunks only the forgotten snapshots used are still stored")
        XCTAssertTrue(keptChunks.isSubset(of: stored))
        try await f.assertRestores(kept)
        try await f.assertRestores(kept, store: nil, "through the pruning repository's own cache")
        // The same Repository object keeps working: a new backup dedups correctly against what is left.
        f.contents["x"] = nil
        try await f.backup(f.contents[kept[0]]! + pseudoRandomBytes(10_000, seed: 5), name: "db", time: 1_800_000_000_000_000_000)
        try await f.assertRestores(kept + [f.order.last!])
        _ = try await pruneAll(f.t.repo)
        try await f.assertClean()

        // Forgotten again and again: nothing left but the newest.
        _ = try await f.forgetAllBut(1)
        _ = try await pruneAll(f.t.repo)
        try await f.assertRestores([f.order.last!])
        try await f.assertClean()
    }

    /// One big pack holds used and unused blobs: prune repacks it (verifying
    /// every blob) unless the unused share is allowed or the repack budget is 0.
    func testRepackThresholdAndBudget() async throws {
        let f = try await PruneFixture.make(count: 4, packSize: 8 << 20)
        _ = try await f.forgetAllBut(3)
        let kept = Array(f.order.suffix(3))

        var o = PruneOptions(); o.dryRun = true
        let plan = try await Pruner(repo: f.t.repo, options: o).run()
        // Each backup wrote its own packs: the first data pack (base + its unique third) is a third
        // unused; the first snapshot's tree pack is all unused.
        XCTAssertEqual(plan.packsRepacked, 1, "the first data pack is a third unused")
        XCTAssertEqual(plan.packsDeleted, 1, "the first tree pack")

        o.maxUnused = .percent(30)
        let v1 = try await Pruner(repo: f.t.repo, options: o).run().packsRepacked
        XCTAssertEqual(v1, 0, "60 kB unused of 300 kB used is within 30%")

        o = PruneOptions(); o.maxRepackBytes = 0
        let none = try await Pruner(repo: f.t.repo, options: o).run()
        XCTAssertEqual(none.packsRepacked, 0)
        XCTAssertGreaterThan(none.unusedBytesKept, 50_000)
        try await f.assertRestores(kept)

        let before = try await f.storedBytes()
        let r = try await Pruner(repo: f.t.repo).run()
        XCTAssertEqual(r.packsRepacked, 1)
        // The used part of that pack, the 120 kB base: ~30 chunks at a 4 KiB average, fewer when the
        // random chunker seed cuts long ones (19 seen).
        XCTAssertGreaterThan(r.blobsRepacked, 10)
        let v2 = try await f.storedBytes()
        XCTAssertLessThan(v2 + 50_000, before)
        try await f.assertRestores(kept)
        try await f.assertClean()
    }

    /// A repack never copies a damaged blob: the prune stops before it deletes anything.
    func testRepackVerifiesEveryBlob() async throws {
        let f = try await PruneFixture.make(count: 3, packSize: 8 << 20)
        // The newest snapshot's first chunk belongs to the shared base, stored in the first
        // snapshot's pack: the pack that is a third unused once that snapshot is forgotten.
        let newest = try f.t.repo.resolveSnapshot(f.order.last!)
        let first = try await f.t.repo.loadTree(newest.snapshot.root).nodes[0].content.ids[0]
        let firstSnapshotChunks = try await f.chunkIDs(f.order[0])
        XCTAssertTrue(firstSnapshotChunks.contains(first))
        _ = try await f.forgetAllBut(2)
        let loc = try XCTUnwrap(try f.t.repo.index.lookup(first, type: .data))
        let key = ObjectKey(.data, loc.pack.hex)
        f.mem.tamper(key) { var b = $0; b[Int(loc.offset) + 20] ^= 1; return b }
        let packsBefore = Set(try await f.mem.list(.data))
        let indexBefore = Set(try await f.mem.list(.index))
        do {
            _ = try await Pruner(repo: try await f.open()).run()
            XCTFail("prune repacked a damaged blob")
        } catch {
            XCTAssertTrue(describe(error).contains("damaged"), describe(error))
        }
        let v3 = try await f.mem.list(.data)
        XCTAssertTrue(packsBefore.isSubset(of: Set(v3)), "a pack was deleted")
        let v4 = try await f.mem.list(.index)
        XCTAssertEqual(indexBefore, Set(v4))
    }

    /// The prune is stopped at every single store mutation in turn (a process
    /// killed there): afterwards every kept snapshot restores, a backup through
    /// the old cache stays restorable, and the next prune finishes the job.
    func testCrashAtEveryStepLeavesARestorableRepository() async throws {
        let f = try await PruneFixture.make(count: 5)
        _ = try await f.forgetAllBut(2)
        let kept = Array(f.order.suffix(2))
        let removedData = f.contents[f.order[0]]!

        // How many puts and deletes a clean prune makes.
        let probe = FaultInjectingStore(try await f.copy())
        let clean = try await Pruner(repo: try await f.open(probe)).run()
        let mutations = probe.putCount + probe.deleteCount
        XCTAssertGreaterThan(clean.packsRepacked, 0, "the fixture should make prune repack")
        XCTAssertGreaterThan(mutations, 6)

        for n in 0..<mutations {
            let disk = try await f.copy()
            let crashing = FaultInjectingStore(disk, allowMutations: n)
            let oldCache = try await f.open(crashing)
            do {
                _ = try await Pruner(repo: oldCache).run()
                XCTFail("prune with \(n) of \(mutations) mutations succeeded")
            } catch {}
            // Right after the crash: kept snapshots restore (fresh cache).
            try await f.assertRestores(kept, store: disk, "after a crash at mutation \(n):")
            // A backup through the cache that watched the crash: re-adds the forgotten data.
            let survivor = try await Repository.open(store: disk, passphrase: TestRepository.passphrase, cacheBase: oldCache.cacheDirectory + "/..")
            var g = f
            try await g.backup(removedData, name: "again", time: 1_900_000_000_000_000_000, repo: survivor)
            // The next prune finishes the job (allowed no unused byte, so "clean" is exact).
            _ = try await pruneAll(try await f.open(disk))
            try await g.assertRestores(kept + [g.order.last!], store: disk, "after crash \(n) and a second prune:")
            try await g.assertClean(store: disk, "after crash \(n) and a second prune:")
        }
    }

    /// A cache opened before another machine's prune must not dedup against
    /// blobs the prune deleted: sync notices the replaced index objects.
    func testStaleCacheDoesNotDedupAgainstPrunedBlobs() async throws {
        var f = try await PruneFixture.make(count: 2)
        let old = f.order[0]
        let oldData = f.contents[old]!
        let stale = try await f.open()            // another machine, synced before the prune
        let oldChunks = try await f.chunkIDs(old)
        let unique = oldChunks.subtracting(try await f.chunkIDs(f.order[1]))
        XCTAssertFalse(unique.isEmpty)
        XCTAssertTrue(try stale.index.contains(unique.first!, type: .data))

        _ = try await f.forgetAllBut(1)
        _ = try await Pruner(repo: f.t.repo).run()
        XCTAssertTrue(try stale.index.contains(unique.first!, type: .data), "not synced yet: still believes")

        try await stale.sync()
        XCTAssertFalse(try stale.index.contains(unique.first!, type: .data))
        var o = BackupOptions(name: "again"); o.timeNanos = 1_900_000_000_000_000_000
        let r = try await withPipe(oldData) { fd in try await Archiver(repo: stale, options: o).backup(streamFD: fd) }
        XCTAssertGreaterThanOrEqual(r.newBytes, 60_000, "the pruned unique chunks must be stored again")
        f.contents[r.snapshotID] = oldData
        try await f.assertRestores([r.snapshotID, f.order[1]])
    }

    /// A backup that stopped before its index delta left a pack only its own
    /// cache knows; a prune elsewhere deletes it as unused; that cache must forget it.
    func testUnindexedPackDeletedByPruneIsForgotten() async throws {
        var f = try await PruneFixture.make(count: 1)
        let data = pseudoRandomBytes(200_000, seed: 4242)
        let other = try await f.open(FaultInjectingStore(f.mem, allowPuts: 1))   // one pack gets stored, then "disk full"
        do {
            var o = BackupOptions(name: "crashed"); o.timeNanos = 1
            _ = try await withPipe(data) { fd in try await Archiver(repo: other, options: o).backup(streamFD: fd) }
            XCTFail("backup should have failed")
        } catch {}
        XCTAssertEqual(try other.index.unindexedPackIDs().count, 1)
        let r = try await Pruner(repo: f.t.repo).run()
        XCTAssertEqual(r.unindexedPacksDeleted, 1)
        let again = try await Repository.open(store: f.mem, passphrase: TestRepository.passphrase, cacheBase: other.cacheDirectory + "/..")
        XCTAssertEqual(try again.index.unindexedPackIDs().count, 0)
        var o = BackupOptions(name: "again"); o.timeNanos = 2
        let b = try await withPipe(data) { fd in try await Archiver(repo: again, options: o).backup(streamFD: fd) }
        XCTAssertEqual(b.newBytes, 200_000)
        f.contents[b.snapshotID] = data
        try await f.assertRestores([b.snapshotID] + f.order)
        _ = try await pruneAll(again)
        try await f.assertRestores([b.snapshotID] + f.order)
        try await f.assertClean()
    }

    /// With no room for new packs, --max-repack 0 still frees space (it writes only the index).
    func testMaxRepackZeroWorksOnAFullDisk() async throws {
        let f = try await PruneFixture.make(count: 4)
        _ = try await f.forgetAllBut(1)
        let full = FaultInjectingStore(f.mem, allowPuts: 1)
        do {
            _ = try await Pruner(repo: try await f.open(FaultInjectingStore(f.mem, allowPuts: 0))).run()
            XCTFail("a prune that must repack cannot work without space")
        } catch {
            XCTAssertTrue(describe(error).contains("no space"), describe(error))
        }
        try await f.assertRestores([f.order.last!])
        let before = try await f.storedBytes()
        var o = PruneOptions(); o.maxRepackBytes = 0
        let r = try await Pruner(repo: try await f.open(full), options: o).run()
        XCTAssertEqual(r.packsRepacked, 0)
        XCTAssertGreaterThan(r.packsDeleted, 0)
        let v5 = try await f.storedBytes()
        XCTAssertLessThan(v5, before)
        try await f.assertRestores([f.order.last!])
    }

    func testOptionParsing() {
        XCTAssertEqual(PruneOptions.parseMaxUnused("5%"), .percent(5))
        XCTAssertEqual(PruneOptions.parseMaxUnused("unlimited"), .unlimited)
        XCTAssertEqual(PruneOptions.parseMaxUnused("200M"), .bytes(200 << 20))
        XCTAssertNil(PruneOptions.parseMaxUnused("100%"))
        XCTAssertEqual(PruneOptions.parseSize("0"), 0)
        XCTAssertEqual(PruneOptions.parseSize("2GiB"), 2 << 30)
        XCTAssertEqual(PruneOptions.parseSize("10k"), 10 << 10)
        XCTAssertNil(PruneOptions.parseSize("x"))
    }
}

/// Prune with delta-compressed chunks: a base that only a kept snapshot's
/// delta needs stays, and repacked deltas keep their base.
final class PruneDeltaTests: XCTestCase {
    func dump(day: Int, rows: Int = 20_000) -> [UInt8] {
        var out: [UInt8] = []
        for i in 0..<rows {
            let version = (0...day).filter { (i &* 2654435761 &+ $0 &* 97) % 50 == 0 }.last ?? 0
            out += Array("\(i)\tuser\(i &* 7919 % 100_000)\t\((i &* 31 &+ version &* 17) % 100_000)\t2026-11-\(10 + version)\tactive\n".utf8)
        }
        return out
    }

    func testBasesOfKeptDeltasSurviveForgetAndRepack() async throws {
        let mem = MemoryStore()
        var f = PruneFixture(mem: mem, t: try await TestRepository.make(store: mem, packSize: 8 << 20))
        for day in 0..<3 { try await f.backup(dump(day: day), name: "pg", time: Int64(1_700_000_000 + day * 86_400) * 1_000_000_000, delta: true) }
        let view = try await StoreIndexSnapshot.load(f.t.repo)
        let deltas = view.blobs.values.filter { $0.base != nil }
        XCTAssertFalse(deltas.isEmpty, "the fixture should produce delta blobs")
        _ = try await f.forgetAllBut(1)
        var o = PruneOptions(); o.maxUnused = .bytes(0)   // repack every partly used pack
        let r = try await Pruner(repo: f.t.repo, options: o).run()
        XCTAssertGreaterThan(r.packsRepacked + r.packsDeleted, 0)
        try await f.assertRestores([f.order.last!])
        try await f.assertClean()
        let after = try await StoreIndexSnapshot.load(try await f.open())
        let kept = after.blobs.values.filter { $0.base != nil }
        XCTAssertFalse(kept.isEmpty, "the kept snapshot's deltas are still deltas")
        for d in kept { XCTAssertNotNil(after.dataLocation(d.base!), "a delta's base was pruned") }
    }
}

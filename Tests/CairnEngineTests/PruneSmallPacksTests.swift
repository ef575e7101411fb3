@testable import CairnEngine
import CairnFormat
import CairnStorage
import CairnTestSupport
import Foundation
import XCTest

/// Prune combines the many tiny packs that `wal-push` and small backups leave (one data pack
/// and one tree pack a commit) into full packs, as restic's prune does with small packs.
final class PruneSmallPacksTests: XCTestCase {
    /// `count` small stream backups of 2 kB each, as a WAL archive makes them: two tiny packs a backup.
    private func fixture(count: Int) async throws -> PruneFixture {
        let mem = MemoryStore()
        var f = PruneFixture(mem: mem, t: try await TestRepository.make(store: mem, profiles: PruneFixture.profiles, packSize: 1 << 16))
        for i in 0..<count {
            try await f.backup(pseudoRandomBytes(2_000, seed: UInt64(500 + i)), name: "wal", time: Int64(1_700_000_000 + i * 60) * 1_000_000_000)
        }
        return f
    }

    func testSmallPacksAreCombinedAndEverySnapshotRestores() async throws {
        let f = try await fixture(count: 12)
        let packsBefore = try await f.mem.list(.data).count
        XCTAssertGreaterThanOrEqual(packsBefore, 24, "each backup stored a data pack and a tree pack")

        let r = try await Pruner(repo: f.t.repo).run()
        XCTAssertEqual(r.packsDeleted, 0, "nothing is unused")
        XCTAssertEqual(r.smallPacksRepacked, packsBefore)
        XCTAssertEqual(r.packsRepacked, packsBefore)
        XCTAssertEqual(r.packsWritten, 2, "one data pack and one tree pack")
        let packsAfter = try await f.mem.list(.data).count
        XCTAssertEqual(packsAfter, 2)
        try await f.assertRestores(f.order)
        try await f.assertClean()

        // The combined packs are not small to the next prune's eye: two packs are fewer than ten.
        var o = PruneOptions(); o.dryRun = true
        let again = try await Pruner(repo: try await f.open(), options: o).run()
        XCTAssertEqual(again.packsRepacked, 0)
        XCTAssertFalse(again.indexRewritten)
    }

    func testRepackZeroBudgetLeavesSmallPacksAlone() async throws {
        let f = try await fixture(count: 12)
        let packsBefore = try await f.mem.list(.data).count
        var o = PruneOptions(); o.maxRepackBytes = 0
        let r = try await Pruner(repo: f.t.repo, options: o).run()
        XCTAssertEqual(r.packsRepacked, 0)
        let packsAfter = try await f.mem.list(.data).count
        XCTAssertEqual(packsAfter, packsBefore)
    }

    /// Killed at every third store mutation of the combining prune in turn (and the last): every snapshot restores right
    /// after, and the next prune finishes the job (one data pack, one tree pack, one index object).
    func testKilledAtEveryStepLeavesEverySnapshotRestorable() async throws {
        let f = try await fixture(count: 10)
        let probe = FaultInjectingStore(try await f.copy())
        let clean = try await Pruner(repo: try await f.open(probe)).run()
        XCTAssertEqual(clean.smallPacksRepacked, 20)
        let mutations = probe.putCount + probe.deleteCount
        XCTAssertGreaterThan(mutations, 20, "new packs, the index, then the deletions")

        // Every third mutation and the last (each step copies, restores and prunes the whole store again).
        for n in Array(stride(from: 0, to: mutations, by: 3)) + [mutations - 1] {
            let disk = try await f.copy()
            do {
                _ = try await Pruner(repo: try await f.open(FaultInjectingStore(disk, allowMutations: n))).run()
                XCTFail("prune with \(n) of \(mutations) mutations succeeded")
            } catch {}
            try await f.assertRestores(f.order, store: disk, "after a kill at mutation \(n):")
            _ = try await Pruner(repo: try await f.open(disk)).run()
            let packs = try await disk.list(.data).count
            XCTAssertEqual(packs, 2, "after a kill at mutation \(n) and a second prune")
            try await f.assertRestores(f.order, store: disk, "after a kill at mutation \(n) and a second prune:")
            try await f.assertClean(store: disk, "after a kill at mutation \(n) and a second prune:")
        }
    }
}

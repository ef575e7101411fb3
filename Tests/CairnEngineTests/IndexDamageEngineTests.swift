@testable import CairnEngine
@testable import CairnRepository
import CairnFormat
import CairnStorage
import Foundation
import XCTest

/// `repair snapshots` never drops a blob some pack holds (issue 15.7).
final class IndexDamageEngineTests: XCTestCase {
    func testSnapshotRepairRefusesWhilePacksHoldTheMissingBlobs() async throws {
        let f = try await PruneFixture.make(count: 2)
        let store = f.mem
        for key in try await store.list(.index) { try await store.delete(key) }
        let repo = try await f.open()
        var o = ScrubOptions(); o.readData = true
        let report = try await Checker(repo: repo, options: o).run()
        XCTAssertTrue(report.indexDamaged)
        XCTAssertFalse(report.dataDamaged, "\(report.blobProblems.prefix(3)) \(report.affected.prefix(3))")
        XCTAssertFalse(report.unindexedBlobs.isEmpty)
        XCTAssertEqual(report.snapshotsNeedingIndexRebuild.count, 2)
        let before = try await store.list(.snapshots).map(\.name).sorted()
        do {
            _ = try await SnapshotRepairer(repo: repo).repair(report: report)
            XCTFail("repair snapshots rewrote snapshots whose blobs packs still hold")
        } catch {
            XCTAssertTrue(describe(error).contains("index rebuild --read-packs"), describe(error))
        }
        let kept = try await store.list(.snapshots).map(\.name).sorted()
        XCTAssertEqual(kept, before, "no snapshot was rewritten")
        // The rebuild the advice names recovers everything.
        _ = try await IndexRebuilder(repo: repo, readAllPacks: true).rebuild()
        let after = try await Checker(repo: repo, options: o).run()
        XCTAssertTrue(after.isClean, "\(after.objectProblems) \(after.unindexedBlobs.prefix(3))")
        try await f.assertRestores(f.order)
    }
}

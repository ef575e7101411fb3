import XCTest
@testable import CairnPostgres

/// The recovery planner on hand-built archives: which files a recovery reads,
/// following timeline history, and what is missing.
final class WALPlannerTests: XCTestCase {
    let size: UInt64 = 16 << 20
    func seg(_ tli: UInt32, _ n: UInt64) -> String { WALFileName.segment(timeline: tli, number: n, segmentSize: size) }

    func testFollowsTheNewestTimelineFromTheSwitchSegment() throws {
        // Timeline 1: segments 2...6; timeline 2 branched at 0/5000100 (in segment 5): segments 5...8.
        var archived: [String: Int64] = [:]
        for n in 2...6 { archived[seg(1, UInt64(n))] = Int64(n) }
        for n in 5...8 { archived[seg(2, UInt64(n))] = Int64(10 + n) }
        archived["00000002.history"] = 14
        let h = try TimelineHistory.parse("1\t0/5000100\tbefore 2026-01-01\n", timeline: 2)
        let planner = WALPlanner(segmentSize: size, archived: archived, histories: [2: h])
        let plan = try planner.plan(timeline: 1, start: LSN("0/2000028")!, stop: LSN("0/2000100")!, target: .latest)
        XCTAssertEqual(plan.targetTimeline, 2)
        XCTAssertEqual(plan.segments, [seg(1, 2), seg(1, 3), seg(1, 4), seg(2, 5), seg(2, 6), seg(2, 7), seg(2, 8)])
        XCTAssertEqual(plan.histories, ["00000002.history"])
        XCTAssertEqual(plan.missing, [])

        // A lost segment on the new timeline is reported; the old timeline's copy does not stand in for it.
        var gap = archived
        gap.removeValue(forKey: seg(2, 6))
        let p2 = try WALPlanner(segmentSize: size, archived: gap, histories: [2: h])
            .plan(timeline: 1, start: LSN("0/2000028")!, stop: LSN("0/2000100")!, target: .latest)
        XCTAssertEqual(p2.missing, [seg(2, 6)])
    }

    func testTimeTargetsNeedWALUpToTheFirstSegmentArchivedAfterTheTarget() throws {
        var archived: [String: Int64] = [:]
        for n in 2...9 { archived[seg(1, UInt64(n))] = Int64(n * 100) }
        let planner = WALPlanner(segmentSize: size, archived: archived, histories: [:])
        let plan = try planner.plan(timeline: 1, start: LSN("0/2000028")!, stop: LSN("0/3000000")!, target: .time(450))
        XCTAssertEqual(plan.segments.last, seg(1, 5), "segment 5 was archived after 450, so it holds the first commit after it")
        XCTAssertEqual(plan.missing, [])
        // A gap after the target does not matter; one before it does.
        var later = archived; later.removeValue(forKey: seg(1, 8))
        XCTAssertEqual(try WALPlanner(segmentSize: size, archived: later, histories: [:])
            .plan(timeline: 1, start: LSN("0/2000028")!, stop: LSN("0/3000000")!, target: .time(450)).missing, [])
        var earlier = archived; earlier.removeValue(forKey: seg(1, 4))
        XCTAssertEqual(try WALPlanner(segmentSize: size, archived: earlier, histories: [:])
            .plan(timeline: 1, start: LSN("0/2000028")!, stop: LSN("0/3000000")!, target: .time(450)).missing, [seg(1, 4)])
        // Past the end of the archive: a clear error, not a silent early end.
        XCTAssertThrowsError(try planner.plan(timeline: 1, start: LSN("0/2000028")!, stop: LSN("0/3000000")!, target: .time(5000))) {
            XCTAssertTrue(String(describing: $0).contains("past the end of the WAL archive"), String(describing: $0))
        }
        // LSN targets: through the target's segment; before the backup's end is refused.
        let lsnPlan = try planner.plan(timeline: 1, start: LSN("0/2000028")!, stop: LSN("0/3000000")!, target: .lsn(LSN("0/6000010")!))
        XCTAssertEqual(lsnPlan.segments.last, seg(1, 6))
        XCTAssertThrowsError(try planner.plan(timeline: 1, start: LSN("0/2000028")!, stop: LSN("0/3000000")!, target: .lsn(LSN("0/2000100")!)))
    }

    func testATimelineThatBranchedBeforeTheBackupEndedIsRefused() throws {
        var archived: [String: Int64] = [seg(1, 2): 1, seg(1, 3): 2, seg(2, 3): 3, "00000002.history": 3]
        archived[seg(2, 4)] = 4
        let h = try TimelineHistory.parse("1\t0/2800000\tx\n", timeline: 2)
        XCTAssertThrowsError(try WALPlanner(segmentSize: size, archived: archived, histories: [2: h])
            .plan(timeline: 1, start: LSN("0/2000028")!, stop: LSN("0/3000100")!, target: .latest)) {
            XCTAssertTrue(String(describing: $0).contains("branched off timeline 1"), String(describing: $0))
        }
    }
}

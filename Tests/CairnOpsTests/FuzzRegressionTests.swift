import CairnOps
import CairnPlan
import XCTest

/// Inputs the `ops-records` fuzz target (Fuzz/) found; their bytes are in
/// Fuzz/Regressions/ops-records/. Drill and scrub records and backups'
/// sizes are snapshot fields anyone holding the key can write: `status`,
/// `report` and the metrics must read them without trapping. (No servers:
/// the evaluation is pure.)
final class FuzzRegressionTests: XCTestCase {
    private let now = 1_700_100_000.0
    private let plan: Plan = try! PlanDecoder.decode("""
        [repository.onsite]
        url = "/backups/cairn"
        password-file = "/etc/cairn/onsite.pass"
        [source.database]
        kind = "pg-dump"
        dbname = "dbname=app"
        repository = "onsite"
        rpo = "26h"
        rto = "15m"
        """, file: "cairn.toml")

    private func drill(seconds: String, phases: String) -> OpsSnapshot {
        OpsSnapshot(id: "d", name: OpsRecord.drillName(source: "database"), time: now - 600, tags: [OpsRecord.tag], extra: [
            "cairn.drill.source": "database", "cairn.drill.kind": "pg-dump", "cairn.drill.ok": "true",
            "cairn.drill.seconds": seconds, "cairn.drill.phases": phases, "cairn.drill.snapshot": "x", "cairn.drill.message": "",
        ])
    }

    private func render(_ snapshots: [OpsSnapshot]) -> (StatusReport, String, String) {
        let facts = [RepositoryFacts(name: "onsite", snapshots: snapshots, storedBytes: 1 << 30, uniqueBytes: 1 << 29)]
        let report = StatusEvaluator.evaluate(plan: plan, facts: facts, now: now)
        return (report, PrometheusMetrics.render(report), HTMLReport.render(plan: plan, facts: facts, now: now))
    }

    /// Fuzz/Regressions/ops-records/drill-nan, drill-inf, drill-big: a drill record of
    /// "nan", "inf" or "1e300" seconds trapped converting to Int64 in `status`, `report`
    /// and `drill`'s listing. Such a record is unreadable: the source counts as not drilled.
    func testDrillRecordsWithImpossibleDurationsAreUnreadable() {
        for bad in ["nan", "inf", "-inf", "1e300", "-5", "315360001"] {
            XCTAssertNil(OpsRecord.Drill(drill(seconds: bad, phases: "restore=1")), bad)
            XCTAssertNil(OpsRecord.Scrub(OpsSnapshot(id: "s", name: OpsRecord.scrubName, time: now, tags: [OpsRecord.tag],
                                                     extra: ["cairn.scrub.clean": "true", "cairn.scrub.seconds": bad])), bad)
            let (report, metrics, html) = render([drill(seconds: bad, phases: "restore=\(bad)")])
            XCTAssertNil(report.sources[0].lastDrill, bad)
            XCTAssertTrue(report.sources[0].rtoBreached, "\(bad): an unreadable drill is no drill")
            XCTAssertFalse(metrics.isEmpty || html.isEmpty)
        }
        // A bad phase is left out; the record stays.
        let kept = OpsRecord.Drill(drill(seconds: "42.5", phases: "restore=nan,check=1.5"))
        XCTAssertEqual(kept?.phases.map(\.name), ["check"])
        XCTAssertEqual(kept?.seconds, 42.5)
    }

    /// Fuzz/Regressions/ops-records/growth-overflow, metrics-growth: two backups of
    /// 2^63 new bytes each overflowed the week's growth sum (a trap), and the daily
    /// growth they make overflowed the metrics' number format. Sums saturate.
    func testHugeSnapshotSizesSaturate() {
        let big = OpsSnapshot(id: "b", name: "database", time: now - 100, logicalBytes: UInt64.max, newBytes: 1 << 63)
        let snapshots = Array(repeating: big, count: 8)
        let (report, metrics, html) = render(snapshots)
        XCTAssertEqual(report.repositories[0].dailyGrowthBytes, Double(UInt64.max) / 7)
        XCTAssertTrue(metrics.contains("cairn_repository_daily_growth_bytes{repository=\"onsite\"} 2.6"), metrics)
        XCTAssertFalse(html.isEmpty)
        XCTAssertEqual(RepositoryFacts(name: "onsite", snapshots: snapshots).ratios.logicalBytes, UInt64.max)
        XCTAssertEqual(StorageRatios.total([1, 2, 3]), 6)
    }
}

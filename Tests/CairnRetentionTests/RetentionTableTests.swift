@testable import CairnRetention
import Foundation
import XCTest

/// Cases worked out by hand from restic's documented rules (Docs/retention.md):
/// each lists the snapshots kept and why.
final class RetentionTableTests: XCTestCase {
    // Ten snapshots, UTC. ISO weeks: 2024-01-01 is Monday of 2024-W01; 2024-12-30 (Monday)
    // starts 2025-W01, the week of Sunday 2025-01-05.
    let snaps: [RetentionSnapshot<String>] = [
        .init(id: "a", timeNanos: at("2024-01-01 10:00")),
        .init(id: "b", timeNanos: at("2024-01-01 12:00"), tags: ["db"]),
        .init(id: "c", timeNanos: at("2024-01-02 09:00")),
        .init(id: "d", timeNanos: at("2024-01-07 23:00"), tags: ["db", "weekly"]),
        .init(id: "e", timeNanos: at("2024-01-08 01:00")),
        .init(id: "f", timeNanos: at("2024-01-31 12:00")),
        .init(id: "g", timeNanos: at("2024-02-01 08:00")),
        .init(id: "h", timeNanos: at("2024-02-01 08:30")),
        .init(id: "i", timeNanos: at("2024-12-30 10:00"), tags: ["weekly"]),
        .init(id: "j", timeNanos: at("2025-01-05 10:00")),
    ]
    let now = at("2025-06-01 00:00")
    let utc = TimeZone(identifier: "UTC")!

    /// Applies the policy; returns "id: reason, reason" for every kept snapshot, newest first.
    func kept(_ p: RetentionPolicy, _ list: [RetentionSnapshot<String>]? = nil, now: Int64? = nil, zone: TimeZone? = nil,
              keepOldest: Bool = true) -> [String] {
        Retention.apply(p, to: list ?? snaps, now: now ?? self.now, timeZone: zone ?? utc, keepOldest: keepOldest)
            .filter(\.keep).map { "\($0.snapshot.id): " + $0.reasons.map(\.description).joined(separator: ", ") }
    }

    func policy(_ edit: (inout RetentionPolicy) -> Void) -> RetentionPolicy { var p = RetentionPolicy(); edit(&p); return p }

    func testCounts() {
        XCTAssertEqual(kept(policy { $0.last = 3 }), ["j: last 1", "i: last 2", "h: last 3"])
        XCTAssertEqual(kept(policy { $0.daily = 3 }), ["j: daily 1", "i: daily 2", "h: daily 3"])
        // g is in h's hour; f and e are the next two hours with snapshots.
        XCTAssertEqual(kept(policy { $0.hourly = 4 }), ["j: hourly 1", "i: hourly 2", "h: hourly 3", "f: hourly 4"])
        XCTAssertEqual(kept(policy { $0.monthly = 3 }), ["j: monthly 1", "i: monthly 2", "h: monthly 3"])
    }

    func testISOWeekAcrossTheYearBoundary() {
        // i (Mon 2024-12-30) is in 2025-W01 with j: not a second weekly. h is 2024-W05.
        XCTAssertEqual(kept(policy { $0.weekly = 2 }), ["j: weekly 1", "h: weekly 2"])
        // d (Sun 2024-01-07) closes 2024-W01; e (Mon 2024-01-08) opens W02; c, b, a share W01 with d.
        XCTAssertEqual(kept(policy { $0.weekly = 5 }), ["j: weekly 1", "h: weekly 2", "e: weekly 3", "d: weekly 4", "a: oldest weekly 5"])
        XCTAssertEqual(CivilDate.isoWeek(days: CivilDate.days(year: 2024, month: 12, day: 30)).year, 2025)
        XCTAssertEqual(CivilDate.isoWeek(days: CivilDate.days(year: 2021, month: 1, day: 3)).week, 53)
        XCTAssertEqual(CivilDate.isoWeek(days: CivilDate.days(year: 2021, month: 1, day: 4)).week, 1)
    }

    func testOldestSnapshotIsKeptWhileCountsRemain() {
        // Seven days hold snapshots (j i h f e d c, b), so the eighth daily slot goes to the oldest, a.
        XCTAssertEqual(kept(policy { $0.daily = 10 }),
                       ["j: daily 1", "i: daily 2", "h: daily 3", "f: daily 4", "e: daily 5", "d: daily 6", "c: daily 7",
                        "b: daily 8", "a: oldest daily 9"])
        // restic before 0.16 did not keep it.
        XCTAssertFalse(kept(policy { $0.daily = 10 }, keepOldest: false).contains { $0.hasPrefix("a:") })
        XCTAssertEqual(kept(policy { $0.yearly = 5 }), ["j: yearly 1", "i: yearly 2", "a: oldest yearly 3"])
        // No count left: the oldest goes.
        XCTAssertEqual(kept(policy { $0.yearly = 2 }), ["j: yearly 1", "i: yearly 2"])
        // keep-last never needs the rule: every snapshot is its own period.
        XCTAssertEqual(kept(policy { $0.last = 20 }).count, 10)
    }

    func testUnlimited() {
        // One per day, the newest of each; g shares h's day. a shares b's day but is the oldest.
        let all = kept(policy { $0.daily = RetentionPolicy.unlimited }).map { String($0.prefix(1)) }
        XCTAssertEqual(all, ["j", "i", "h", "f", "e", "d", "c", "b", "a"])
    }

    func testCombinedReasons() {
        XCTAssertEqual(kept(policy { $0.last = 1; $0.weekly = 2 }), ["j: last 1, weekly 1", "h: weekly 2"])
        XCTAssertEqual(kept(policy { $0.last = 2; $0.monthly = 2; $0.yearly = 2 }),
                       ["j: last 1, monthly 1, yearly 1", "i: last 2, monthly 2, yearly 2"])
    }

    func testTags() {
        XCTAssertEqual(kept(policy { $0.tags = [["db"]] }), ["d: tag db", "b: tag db"])
        XCTAssertEqual(kept(policy { $0.tags = [["db", "weekly"]] }), ["d: tag db,weekly"])
        XCTAssertEqual(kept(policy { $0.tags = [["db"], ["weekly"]] }), ["i: tag weekly", "d: tag db, tag weekly", "b: tag db"])
        // The empty tag matches untagged snapshots.
        XCTAssertEqual(kept(policy { $0.tags = [[""]] }).count, 7)
        XCTAssertEqual(kept(policy { $0.tags = [["db"]]; $0.last = 1 }), ["j: last 1", "d: tag db", "b: tag db"])
    }

    func testWithin() {
        // Newest is j (2025-01-05 10:00): 7 days back is 2024-12-29 10:00.
        XCTAssertEqual(kept(policy { $0.within = RetentionDuration(days: 7) }), ["j: within 7d", "i: within 7d"])
        XCTAssertEqual(kept(policy { $0.within = RetentionDuration(days: 6, hours: 23) }), ["j: within 6d23h", "i: within 6d23h"])
        XCTAssertEqual(kept(policy { $0.within = RetentionDuration(days: 6) }), ["j: within 6d"])
        // Counted within: the newest of each day newer than 3 days before j; only j. A year back is
        // 2024-01-05 10:00: January 2024 (f), February (h), December (i), January 2025 (j).
        XCTAssertEqual(kept(policy { $0.withinDaily = RetentionDuration(days: 3) }), ["j: daily within 3d"])
        XCTAssertEqual(kept(policy { $0.withinMonthly = RetentionDuration(years: 1) }),
                       ["j: monthly within 1y", "i: monthly within 1y", "h: monthly within 1y", "f: monthly within 1y"])
    }

    func testWithinMonthArithmeticNormalisesLikeGo() {
        // 2024-03-31 minus one month is "2024-02-31", which Go normalises to 2024-03-02 (leap year), not 02-29.
        let list: [RetentionSnapshot<String>] = [
            .init(id: "new", timeNanos: at("2024-03-31 12:00")),
            .init(id: "in", timeNanos: at("2024-03-02 12:00:01")),
            .init(id: "edge", timeNanos: at("2024-03-02 12:00")),   // not strictly after: removed
            .init(id: "out", timeNanos: at("2024-03-01 12:00")),    // a clamping calendar would keep this one
        ]
        XCTAssertEqual(kept(policy { $0.within = RetentionDuration(months: 1) }, list), ["new: within 1m", "in: within 1m"])
    }

    func testFutureSnapshotsDoNotMoveTheWindow() {
        let list: [RetentionSnapshot<String>] = [
            .init(id: "future", timeNanos: at("2030-01-01 00:00")),
            .init(id: "latest", timeNanos: at("2024-05-31 00:00")),
            .init(id: "day-before", timeNanos: at("2024-05-30 01:00")),
            .init(id: "old", timeNanos: at("2024-05-01 00:00")),
        ]
        XCTAssertEqual(kept(policy { $0.within = RetentionDuration(days: 1) }, list, now: at("2024-06-01 00:00")),
                       ["future: within 1d", "latest: within 1d", "day-before: within 1d"])
    }

    func testLocalTimeBuckets() {
        // Berlin, 2021-10-31: 02:30 CEST (00:30 UTC) and 02:30 CET (01:30 UTC) are one local hour.
        let berlin = TimeZone(identifier: "Europe/Berlin")!
        let list: [RetentionSnapshot<String>] = [
            .init(id: "cet", timeNanos: at("2021-10-31 01:30")),
            .init(id: "cest", timeNanos: at("2021-10-31 00:30")),
            .init(id: "before", timeNanos: at("2021-10-30 23:30")),
        ]
        XCTAssertEqual(kept(policy { $0.hourly = 2 }, list, zone: berlin), ["cet: hourly 1", "before: hourly 2"])
        XCTAssertEqual(kept(policy { $0.hourly = 2 }, list, zone: utc), ["cet: hourly 1", "cest: hourly 2"])
        // 23:30 UTC on the 30th is the 31st in Berlin: one local day for all three.
        XCTAssertEqual(kept(policy { $0.daily = 1 }, list, zone: berlin), ["cet: daily 1"])
        XCTAssertEqual(kept(policy { $0.daily = 2 }, list, zone: utc).count, 2)
    }

    func testEmptyPolicyKeepsEverything() {
        XCTAssertTrue(RetentionPolicy().isEmpty)
        XCTAssertTrue(policy { $0.within = RetentionDuration() }.isEmpty)
        XCTAssertEqual(kept(RetentionPolicy()).count, 10)
        XCTAssertEqual(Retention.apply(RetentionPolicy(), to: snaps, now: now, timeZone: utc)[0].reasons.map(\.description), ["policy is empty"])
    }

    func testParsing() {
        XCTAssertEqual(RetentionDuration.parse("2y5m7d3h"), RetentionDuration(years: 2, months: 5, days: 7, hours: 3))
        XCTAssertEqual(RetentionDuration.parse("36h"), RetentionDuration(hours: 36))
        XCTAssertEqual(RetentionDuration.parse("1d12h")?.description, "1d12h")
        for bad in ["", "7", "7w", "d", "1.5d", "-1d"] { XCTAssertNil(RetentionDuration.parse(bad), bad) }
        XCTAssertEqual(RetentionPolicy.parseCount("unlimited"), -1)
        XCTAssertEqual(RetentionPolicy.parseCount("0"), 0)
        XCTAssertNil(RetentionPolicy.parseCount("-2"))
        XCTAssertEqual(Retention.GroupBy.parse("host,name"), [.name, .host])
        XCTAssertEqual(Retention.GroupBy.parse(""), [])
        XCTAssertNil(Retention.GroupBy.parse("paths"))
    }

    func testGrouping() {
        let list: [RetentionSnapshot<String>] = [
            .init(id: "1", timeNanos: 1, name: "pg", host: "a", tags: ["x", "y"]),
            .init(id: "2", timeNanos: 2, name: "pg", host: "b", tags: ["y", "x"]),
            .init(id: "3", timeNanos: 3, name: "etc", host: "a"),
        ]
        XCTAssertEqual(Retention.group(list, by: .name).map { $0.snapshots.map(\.id) }, [["3"], ["1", "2"]])
        XCTAssertEqual(Retention.group(list, by: [.name, .host]).count, 3)
        XCTAssertEqual(Retention.group(list, by: .tags).map { $0.snapshots.map(\.id) }, [["3"], ["1", "2"]])
        XCTAssertEqual(Retention.group(list, by: []).count, 1)
        // Counts apply per group: keep-last 1 keeps one of each name.
        var p = RetentionPolicy(); p.last = 1
        let keptIDs = Retention.group(list, by: .name).flatMap { Retention.apply(p, to: $0.snapshots, now: 10, timeZone: utc) }
            .filter(\.keep).map(\.snapshot.id)
        XCTAssertEqual(Set(keptIDs), ["3", "2"])
    }
}

import CairnRetention
import Foundation
import XCTest

/// Inputs the `retention` fuzz target (Fuzz/) found; their bytes are in
/// Fuzz/Regressions/retention/. Snapshot times span all of Int64 (anyone
/// holding the key writes snapshots), durations come from the command line
/// and plan files: forget must decide, never trap.
final class FuzzRegressionTests: XCTestCase {
    private let now: Int64 = 1_700_000_000_000_000_000

    /// Fuzz/Regressions/retention/threshold-underflow: the newest snapshot not in the
    /// future at Int64.min + 2^55 ns and `--keep-within 48h`: subtracting the hours from
    /// it overflowed (a trap). The threshold saturates: both snapshots are within.
    func testWithinNearTheStartOfTimeDoesNotTrap() throws {
        var policy = RetentionPolicy()
        policy.within = RetentionDuration.parse("48h")
        policy.withinDaily = RetentionDuration.parse("7d")
        let early = Int64.min + (1 << 55)
        let snaps = [RetentionSnapshot(id: "a", timeNanos: early), RetentionSnapshot(id: "b", timeNanos: Int64.min)]
        for zone in ["UTC", "Europe/Berlin", "Pacific/Kiritimati"] {
            let decisions = Retention.apply(policy, to: snaps, now: now, timeZone: try XCTUnwrap(TimeZone(identifier: zone)))
            XCTAssertEqual(decisions.map(\.snapshot.id), ["a", "b"], zone)
            XCTAssertTrue(decisions[0].keep, zone)
        }
    }

    /// Times at both ends of Int64 under every kind of rule.
    func testExtremeTimesUnderEveryRule() throws {
        var policy = RetentionPolicy()
        policy.last = 2; policy.hourly = 2; policy.daily = 2; policy.weekly = 2; policy.monthly = 2; policy.yearly = RetentionPolicy.unlimited
        policy.within = RetentionDuration.parse("1000000y")
        policy.withinMonthly = RetentionDuration.parse("999999m1000000d")
        let snaps = [Int64.min, Int64.min + 1, -1, 0, now, Int64.max - 1, Int64.max].enumerated().map {
            RetentionSnapshot(id: String($0.offset), timeNanos: $0.element)
        }
        let decisions = Retention.apply(policy, to: snaps, now: now, timeZone: try XCTUnwrap(TimeZone(identifier: "America/New_York")))
        XCTAssertEqual(decisions.count, snaps.count)
        XCTAssertTrue(decisions.allSatisfy(\.keep), "within a million years keeps everything")
    }

    /// Durations past a million of one unit are refused (they overflowed the
    /// calendar arithmetic, or the parser itself when adding up).
    func testHugeDurationsAreRefused() {
        for text in ["9223372036854775807y1y", "1000001d", "600000h600000h", "99999999999999999999m"] {
            XCTAssertNil(RetentionDuration.parse(text), text)
        }
        XCTAssertEqual(RetentionDuration.parse("1000000y"), RetentionDuration(years: 1_000_000))
    }
}

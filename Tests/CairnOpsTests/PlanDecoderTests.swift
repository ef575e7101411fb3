import CairnOps
import CairnPlan
import Foundation
import XCTest

/// The plan language as the registered source kinds declare it (`SourceRegistry.planCapabilities`,
/// through CairnOps' `PlanDecoder.decode(_:file:)`).
final class PlanDecoderTests: XCTestCase {
    static let example = """
    [repository.onsite]
    url = "/backups/cairn"
    password-file = "/etc/cairn/onsite.pass"
    keep = { daily = 7, weekly = 4, monthly = 12 }

    [source.database]
    kind = "pg-dump"
    dbname = "host=/run/postgresql dbname=r3mes"
    repository = "onsite"
    schedule = "daily 02:00"
    rpo = "26h"
    rto = "15m"
    [[source.database.check]]
    sql = "SELECT count(*) FROM users"
    expect = "> 0"

    [source.wal]
    kind = "pg-wal"
    repository = "onsite"
    rpo = "5m"

    [source.node-data]
    kind = "tree"
    paths = ["/home/remes/.remesd/data"]
    exclude = ["*.tmp"]
    repository = "onsite"
    schedule = "weekly sun 04:00"
    rpo = "8d"
    """

    func testTheIssuesExampleDecodes() throws {
        let plan = try PlanDecoder.decode(Self.example, file: "cairn.toml")
        XCTAssertEqual(plan.repositories.map(\.name), ["onsite"])
        XCTAssertEqual(plan.repositories[0].keep.forgetArguments, ["--keep-daily", "7", "--keep-weekly", "4", "--keep-monthly", "12"])
        XCTAssertEqual(plan.sources.map(\.name), ["database", "wal", "node-data"])
        let db = try XCTUnwrap(plan.source(named: "database"))
        XCTAssertEqual(db.kind, .pgDump)
        XCTAssertEqual(db.rpo, 26 * 3600)
        XCTAssertEqual(db.rto, 900)
        XCTAssertEqual(db.schedule, .daily(hour: 2, minute: 0))
        XCTAssertEqual(db.checks.count, 1)
        XCTAssertEqual(db.checks[0].line, 13)
        XCTAssertEqual(plan.source(named: "wal")?.snapshotName, "pg-wal")
        XCTAssertEqual(plan.source(named: "node-data")?.schedule, .weekly(weekday: 1, hour: 4, minute: 0))
    }

    func testEveryErrorNamesFileLineAndKey() {
        let bad = Self.example
            .replacingOccurrences(of: "rpo = \"26h\"", with: "rpo = \"26x\"")
            .replacingOccurrences(of: "schedule = \"weekly sun 04:00\"", with: "schedule = \"weekly someday 04:00\"")
            .replacingOccurrences(of: "exclude = [\"*.tmp\"]", with: "exclude = [\"*.tmp\"]\ndbname = \"x\"")
            + "\n[source.extra]\nkind = \"tape\"\nrepository = \"offsite\"\n"
        XCTAssertThrowsError(try PlanDecoder.decode(bad, file: "cairn.toml")) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains("cairn.toml:11: source.database.rpo: \"26x\" is not a duration (like 26h"), text)
            XCTAssertTrue(text.contains("cairn.toml:28: source.node-data.schedule: \"weekly\" takes a day and a time"), text)
            XCTAssertTrue(text.contains("cairn.toml:26: source.node-data.dbname: not a key of tree sources"), text)
            XCTAssertTrue(text.contains("source.extra.kind: \"tape\" is not a source kind"), text)
        }
    }

    func testReferencesAndCapabilities() {
        let text = """
        [repository.onsite]
        url = "/r"
        password-file = "/p"
        [repository.cloud]
        url = "s3:https://h/b"
        password-file = "/q"
        copy-from = "onsite"
        keep = { within = "1y", daily = "lots" }
        [source.a]
        kind = "tree"
        paths = ["relative"]
        repository = "nowhere"
        """
        XCTAssertThrowsError(try PlanDecoder.decode(text, file: "p.toml")) { e in
            let t = "\(e)"
            XCTAssertFalse(t.contains("copy-from"), t)
            XCTAssertTrue(t.contains("p.toml:8: repository.cloud.keep.daily: must be a number"), t)
            XCTAssertTrue(t.contains("source.a.repository: no repository named \"nowhere\""), t)
            XCTAssertTrue(t.contains("p.toml:11: source.a.paths: \"relative\" (item 1) must be an absolute path"), t)
        }
        XCTAssertNoThrow(try PlanDecoder.decode(text.replacingOccurrences(of: ", daily = \"lots\"", with: "")
            .replacingOccurrences(of: "\"relative\"", with: "\"/abs\"").replacingOccurrences(of: "nowhere", with: "onsite"),
            file: "p.toml"))
        // A replication cycle is refused, naming it.
        let cycle = text.replacingOccurrences(of: ", daily = \"lots\"", with: "").replacingOccurrences(of: "\"relative\"", with: "\"/abs\"")
            .replacingOccurrences(of: "nowhere", with: "onsite").replacingOccurrences(of: "password-file = \"/p\"", with: "password-file = \"/p\"\ncopy-from = \"cloud\"")
        XCTAssertThrowsError(try PlanDecoder.decode(cycle, file: "p.toml")) { e in
            XCTAssertTrue("\(e)".contains("repository.onsite.copy-from: replication cycle: onsite <- cloud <- onsite"), "\(e)")
        }
    }

    func testSchedules() throws {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let now = Date(timeIntervalSince1970: 1_767_225_600 + 3 * 86_400 + 5 * 3600 + 17 * 60) // Sun 2026-01-04 05:17 UTC
        func last(_ s: String) throws -> Date {
            guard case .success(let v) = Schedule.parse(s) else { throw XCTSkip("bad schedule \(s)") }
            return v.lastOccurrence(atOrBefore: now, calendar: cal)
        }
        XCTAssertEqual(try last("daily 02:00"), Date(timeIntervalSince1970: 1_767_225_600 + 3 * 86_400 + 2 * 3600))
        XCTAssertEqual(try last("daily 06:00"), Date(timeIntervalSince1970: 1_767_225_600 + 2 * 86_400 + 6 * 3600))
        XCTAssertEqual(try last("every 1h"), Date(timeIntervalSince1970: 1_767_225_600 + 3 * 86_400 + 5 * 3600))
        XCTAssertEqual(try last("every 15m"), Date(timeIntervalSince1970: 1_767_225_600 + 3 * 86_400 + 5 * 3600 + 15 * 60))
        XCTAssertEqual(try last("weekly sun 04:00"), Date(timeIntervalSince1970: 1_767_225_600 + 3 * 86_400 + 4 * 3600))
        XCTAssertEqual(try last("weekly sun 06:00"), Date(timeIntervalSince1970: 1_767_225_600 - 4 * 86_400 + 6 * 3600))
        XCTAssertEqual(try last("monthly 1 03:00"), Date(timeIntervalSince1970: 1_767_225_600 + 3 * 3600))
        XCTAssertEqual(try last("monthly 5 03:00"), Date(timeIntervalSince1970: 1_767_225_600 - 27 * 86_400 + 3 * 3600))
        XCTAssertEqual(Schedule.parse("weekly sun 02:00").map(\.onCalendar), .success("Sun *-*-* 02:00:00"))
        XCTAssertEqual(Schedule.parse("every 15m").map(\.onCalendar), .success("*-*-* *:00/15:00"))
        XCTAssertEqual(Schedule.parse("monthly 1 03:00").map(\.onCalendar), .success("*-*-01 03:00:00"))
        for bad in ["hourly", "every 7m", "daily 25:00", "monthly 31 03:00", "weekly 02:00"] {
            if case .success = Schedule.parse(bad) { XCTFail("\(bad) accepted") }
        }
    }

    func testExpectations() throws {
        func holds(_ e: String, _ v: String?, rows: Int = 1) throws -> Bool {
            guard case .success(let x) = CheckExpectation.parse(e) else { throw XCTSkip("bad \(e)") }
            return x.holds(value: v, rowCount: rows)
        }
        XCTAssertTrue(try holds("> 0", "3"))
        XCTAssertFalse(try holds("> 0", "0"))
        XCTAssertFalse(try holds("> 0", nil))
        XCTAssertTrue(try holds("= 'ok'", "ok"))
        XCTAssertTrue(try holds("rows >= 2", nil, rows: 2))
        XCTAssertTrue(try holds("!= 5", "4"))
        if case .success = CheckExpectation.parse("about 3") { XCTFail("accepted") }
    }
}

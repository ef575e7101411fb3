import CairnOps
import CairnPostgres
import XCTest

/// Drills against real servers: a PostgreSQL 15 cluster and a redis-server
/// started here (skipped when absent, failed under CI=true).
final class DrillTests: XCTestCase {
    func testDrillsPassOnRealServersAndABrokenCheckFailsByName() throws {
        _ = try OpsHarness.require("/usr/lib/postgresql/15/bin/initdb", "PostgreSQL 15 (initdb)")
        _ = try OpsHarness.require("/usr/bin/redis-server", "redis-server")
        let h = try OpsHarness()
        let repo = try h.initRepository("repo")

        // The production side: a database with users, a Redis with keys, a directory.
        let pg = try TemporaryPostgres(scratch: h.dir, bin: nil, user: "postgres")
        defer { pg.stop() }
        let admin = try PGConnection(pg.conninfo("postgres"))
        _ = try admin.query("CREATE DATABASE app")
        let app = try PGConnection(pg.conninfo("app"))
        _ = try app.query("CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL)")
        _ = try app.query("INSERT INTO users (name) SELECT 'user ' || g FROM generate_series(1, 500) g")
        try FileManager.default.createDirectory(atPath: h.dir + "/redis-src", withIntermediateDirectories: true)
        let redis = try TemporaryRedis(rdb: h.dir + "/redis-src/dump.rdb", server: nil)
        defer { redis.stop() }
        for i in 0..<200 { _ = try redis.command(["SET", "key:\(i)", "value \(i)"]) }
        try h.write("data/config.toml", "moniker = \"node\"\n")
        try h.write("data/blocks/000001.ldb", String(repeating: "block", count: 2000))
        symlink("config.toml", h.dir + "/data/link")

        let plan = """
        [repository.onsite]
        url = "\(repo)"
        password-file = "\(h.passFile)"

        [source.database]
        kind = "pg-dump"
        dbname = "\(pg.conninfo("app"))"
        repository = "onsite"
        rpo = "26h"
        rto = "15m"
        [[source.database.check]]
        sql = "SELECT count(*) FROM users"
        expect = "= 500"

        [source.cache]
        kind = "redis"
        url = "redis://127.0.0.1:\(redis.port)"
        repository = "onsite"
        rto = "5m"

        [source.node]
        kind = "tree"
        paths = ["\(h.dir)/data"]
        repository = "onsite"
        """
        let planPath = try h.write("cairn.toml", plan)
        let env = ["CAIRN_PLAN": planPath, "CAIRN_PG_BIN": pg.bin]
        try h.run(["run", "--all", "--backups-only"], env: env).check("run")
        // No drill yet: the RTO is not measured, so status is breached.
        try h.run(["status"], env: env).check("status before a drill", 5)

        let drill = try h.run(["drill", "--json"], env: env).check("drill")
        let drills = try XCTUnwrap(try drill.json()["drills"] as? [[String: Any]])
        XCTAssertEqual(drills.count, 3, drill.summary)
        for d in drills { XCTAssertEqual(d["ok"] as? Bool, true, drill.summary) }
        let byName = Dictionary(uniqueKeysWithValues: drills.map { ($0["source"] as? String ?? "", $0) })
        XCTAssertTrue((byName["cache"]?["message"] as? String ?? "").hasPrefix("200 of 200 recorded keys loaded"), drill.summary)
        XCTAssertTrue((byName["database"]?["message"] as? String ?? "").contains("1 check(s) passed"), drill.summary)
        XCTAssertTrue((byName["node"]?["message"] as? String ?? "").contains("entries match the manifest"), drill.summary)
        let phases = (byName["database"]?["phases"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        XCTAssertEqual(phases, ["start", "restore", "checks"])

        // The drills were recorded in the repository: status measures the RTO now.
        let status = try h.run(["status", "--json"], env: env).check("status after the drill", 0)
        let db = try XCTUnwrap((try status.json()["sources"] as? [[String: Any]])?.first { $0["name"] as? String == "database" })
        XCTAssertEqual((db["last_drill"] as? [String: Any])?["ok"] as? Bool, true, status.summary)

        // A check that expects a table the dump does not have: the drill fails naming the check.
        try h.write("cairn.toml", plan + """

        [[source.database.check]]
        name = "orders exist"
        sql = "SELECT count(*) FROM orders"
        expect = "> 0"
        """)
        let broken = try h.run(["drill", "--source", "database"], env: env).check("drill with a broken check", 1)
        XCTAssertTrue(broken.out.contains("FAILED"), broken.summary)
        XCTAssertTrue(broken.out.contains("check \"orders exist\" (\(planPath):"), broken.summary)
        XCTAssertTrue(broken.out.contains("relation \"orders\" does not exist"), broken.summary)
        // ... and status reports the failed drill (exit 5).
        let after = try h.run(["status"], env: env).check("status after a failed drill", 5)
        XCTAssertTrue(after.out.contains("BREACH: source database: the last drill failed"), after.summary)
    }
}

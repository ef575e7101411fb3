import CairnOps
import CairnPostgres
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The physical drill: a PostgreSQL 15 cluster archiving through `cairn wal-push`,
/// a `cairn pg basebackup`, rows written after it and the segment switched, then
/// `cairn drill` replays base backup + WAL on a temporary server and runs the check.
final class BaseBackupDrillTests: XCTestCase {
    func testBaseBackupDrillReplaysTheArchivedWALAndRunsTheChecks() throws {
        _ = try OpsHarness.require("/usr/lib/postgresql/15/bin/initdb", "PostgreSQL 15 (initdb)")
        let h = try OpsHarness()
        // The production side runs as the postgres account when root: its own home, passphrase, repository, env file.
        let owner = geteuid() == 0 ? "postgres" : nil
        let home = h.dir + "/pg-home"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let pass = try h.write(home + "/pass", "ops test passphrase\n", mode: 0o600)
        let repo = home + "/repo"
        let envFile = try h.write(home + "/cairn.env", "CAIRN_REPO=\(repo)\nCAIRN_PASSWORD_FILE=\(pass)\nCAIRN_CACHE_DIR=\(home)/cache\n", mode: 0o600)
        if let owner, let pw = getpwnam(owner) {
            for p in [home, pass, envFile] { chown(p, pw.pointee.pw_uid, pw.pointee.pw_gid) }
        }
        let pgEnv = ["CAIRN_REPO": repo, "CAIRN_PASSWORD_FILE": pass, "CAIRN_CACHE_DIR": home + "/cache", "HOME": home]
        try h.run(["init"], env: pgEnv, user: owner).check("init")

        let pg = try TemporaryPostgres(scratch: h.dir, bin: nil, user: "postgres", settings: [
            "wal_level = replica", "archive_mode = on", "max_wal_senders = 2",
            "archive_command = '\(h.cairn) wal-push --env-file \(envFile) %p %f'"])
        defer { pg.stop() }
        let conn = try PGConnection(pg.conninfo("postgres"))
        _ = try conn.query("CREATE TABLE t (id int PRIMARY KEY, note text)")
        _ = try conn.query("INSERT INTO t SELECT g, 'before ' || g FROM generate_series(1, 100) g")
        try h.run(["pg", "basebackup", "--name", "db", "--dbname", pg.conninfo("postgres")], env: pgEnv, user: owner).check("pg basebackup")
        // Written after the base backup: only the WAL replay brings these back.
        _ = try conn.query("INSERT INTO t SELECT g, 'after ' || g FROM generate_series(101, 250) g")
        let segment = try conn.value("SELECT pg_walfile_name(pg_switch_wal())")
        let deadline = Date().addingTimeInterval(30)
        while (try conn.value("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")) < segment {
            guard Date() < deadline else { return XCTFail("\(segment) was not archived within 30 s: \(try conn.query("SELECT * FROM pg_stat_archiver"))") }
            usleep(100_000)
        }

        let planPath = try h.write("cairn.toml", """
        [repository.onsite]
        url = "\(repo)"
        password-file = "\(pass)"

        [source.db]
        kind = "pg-basebackup"
        dbname = "\(pg.conninfo("postgres"))"
        repository = "onsite"
        rto = "15m"
        [[source.db.check]]
        name = "rows"
        sql = "SELECT count(*) FROM t"
        expect = "= 250"

        [source.wal]
        kind = "pg-wal"
        repository = "onsite"
        """)
        let env = ["CAIRN_PLAN": planPath, "CAIRN_PG_BIN": pg.bin]
        let drill = try h.run(["drill", "--json"], env: env).check("drill")
        let out = try drill.json()
        let drills = try XCTUnwrap(out["drills"] as? [[String: Any]])
        XCTAssertEqual(drills.count, 1, drill.summary)
        let d = try XCTUnwrap(drills.first)
        XCTAssertEqual(d["source"] as? String, "db")
        XCTAssertEqual(d["ok"] as? Bool, true, drill.summary)
        XCTAssertTrue((d["message"] as? String ?? "").contains("replayed, promoted; 1 check(s) passed"), drill.summary)
        XCTAssertEqual((d["phases"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }, ["fetch", "restore", "replay", "checks"])
        XCTAssertGreaterThan(d["seconds"] as? Double ?? 0, 0)
        let skipped = try XCTUnwrap(out["skipped"] as? [[String: Any]])
        XCTAssertEqual(skipped.first?["source"] as? String, "wal")
        XCTAssertTrue((skipped.first?["reason"] as? String ?? "").contains("covered by the base backup + WAL replay drill of db"), drill.summary)

        // Recorded: status sees the measured RTO of the base backup source.
        let status = try h.run(["status", "--json"], env: env)
        let db = try XCTUnwrap((try status.json()["sources"] as? [[String: Any]])?.first { $0["name"] as? String == "db" }, status.summary)
        XCTAssertEqual((db["last_drill"] as? [String: Any])?["ok"] as? Bool, true, status.summary)
    }
}

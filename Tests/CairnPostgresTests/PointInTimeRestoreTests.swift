import CairnPostgres
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The end-to-end test: a real PostgreSQL 15 cluster archiving through
/// `cairn wal-push`, a base backup, rows committed at recorded times, a dropped
/// table, and `cairn pg restore --target-time` into a fresh data directory that
/// PostgreSQL recovers through `cairn wal-fetch`.
final class PointInTimeRestoreTests: XCTestCase {
    func testRestoreToTimeBringsBackDroppedTableWithExactRowCounts() throws {
        let sandbox = try Sandbox()
        let cluster = try PostgresCluster(sandbox: sandbox)
        defer { cluster.stop() }
        let conn = try cluster.connect()
        try conn.query("CREATE TABLE accounts(id int PRIMARY KEY, balance bigint NOT NULL)")
        try conn.query("INSERT INTO accounts SELECT g, g * 10 FROM generate_series(1, 1000) g")
        try conn.query("CREATE TABLE events(id serial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp(), note text)")

        let backup = try sandbox.cairnRun(["pg", "basebackup", "--dbname", cluster.conninfo, "--json"])
        try backup.check("pg basebackup")
        let bb = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(backup.out.utf8)) as? [String: Any])
        XCTAssertEqual(bb["timeline"] as? String, "1")
        XCTAssertNotNil((bb["start_lsn"] as? String).flatMap { LSN($0) })

        // A second base backup reads only what changed: relation files with unchanged size and mtime are not re-read.
        let again = try sandbox.cairnRun(["pg", "basebackup", "--dbname", cluster.conninfo, "--json"]).check("second pg basebackup")
        let bb2 = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(again.out.utf8)) as? [String: Any])
        XCTAssertGreaterThan((bb2["unchanged_files"] as? Int) ?? 0, 500, again.out)

        // Batches of rows, each committed in its own transaction, with the commit time recorded.
        var commitTimes: [(rows: Int, at: String)] = []
        for batch in 1...5 {
            try conn.query("INSERT INTO events(note) SELECT 'batch \(batch) row ' || g FROM generate_series(1, \(batch * 100)) g")
            try conn.query("UPDATE accounts SET balance = balance + 1 WHERE id <= \(batch * 100)")
            commitTimes.append((Int(try conn.value("SELECT count(*) FROM events"))!,
                                try conn.value("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")))
            if batch == 2 { try cluster.switchAndWaitForArchive(conn) }
            usleep(200_000)
        }
        // The target: after batch 3. Then the mistake.
        let target = commitTimes[2]
        try conn.query("DROP TABLE accounts")
        try conn.query("INSERT INTO events(note) VALUES ('after the drop')")
        try cluster.switchAndWaitForArchive(conn)

        let check = try sandbox.cairnRun(["pg", "wal-check", "--json"])
        XCTAssertEqual(check.status, 0, check.summary)
        let status = try sandbox.cairnRun(["pg", "status", "--json"]).check("pg status")
        let st = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(status.out.utf8)) as? [String: Any])
        XCTAssertLessThan((st["newest_segment_age_seconds"] as? Double) ?? 999, 60)

        let pgdata = sandbox.dir + "/restored"
        let restore = try sandbox.cairnRun(["pg", "restore", "--pgdata", pgdata, "--target-time", target.at, "--json"])
        try restore.check("pg restore")
        let auto = try String(contentsOfFile: pgdata + "/postgresql.auto.conf", encoding: .utf8)
        XCTAssertTrue(auto.contains("restore_command = '"), auto)
        XCTAssertTrue(auto.contains("recovery_target_action = 'promote'"), auto)
        XCTAssertTrue(auto.contains("archive_mode = 'off'"), auto)
        XCTAssertTrue(FileManager.default.fileExists(atPath: pgdata + "/recovery.signal"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: pgdata + "/recovery.conf"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: pgdata + "/backup_label"))
        var st2 = stat()
        XCTAssertEqual(stat(pgdata, &st2), 0)
        XCTAssertEqual(st2.st_mode & 0o777, 0o700)
        XCTAssertEqual(st2.st_uid, sandbox.uid)
        // A second restore into the now non-empty directory is refused, in one line, without touching it.
        let again2 = try sandbox.cairnRun(["pg", "restore", "--pgdata", pgdata, "--target-time", target.at])
        XCTAssertEqual(again2.status, 1, again2.summary)
        XCTAssertTrue(again2.err.contains("is not empty") && again2.err.contains("--force"), again2.summary)
        XCTAssertEqual(again2.err.split(separator: "\n").count, 1, again2.summary)
        XCTAssertEqual(try String(contentsOfFile: pgdata + "/postgresql.auto.conf", encoding: .utf8), auto)

        // Start the restored copy beside the original, on its own port and socket.
        let port = PostgresCluster.freePort()
        let conf = try FileHandle(forWritingTo: URL(fileURLWithPath: pgdata + "/postgresql.conf"))
        conf.seekToEndOfFile(); conf.write(Data("\nport = \(port)\n".utf8)); try conf.close()
        try cluster.start(dataDirectory: pgdata)
        defer { cluster.stop(dataDirectory: pgdata) }
        let restored = try waitForPromotion("host=\(sandbox.dir) port=\(port) user=postgres dbname=postgres")
        XCTAssertEqual(try restored.value("SELECT count(*) FROM events"), String(target.rows))
        XCTAssertEqual(try restored.value("SELECT count(*) FROM accounts"), "1000", "the dropped table is back")
        // Balances 10·id, plus one for each of the first three batches' updates (100, 200 and 300 rows).
        let expectedSum: Int = 10 * (1000 * 1001 / 2) + 100 + 200 + 300
        XCTAssertEqual(try restored.value("SELECT sum(balance) FROM accounts"), String(expectedSum))
        XCTAssertEqual(try restored.value("SELECT count(*) FROM events WHERE note = 'after the drop'"), "0")
        XCTAssertEqual(try restored.value("SELECT timeline_id::text FROM pg_control_checkpoint()"), "2")
        let log = try String(contentsOfFile: pgdata + ".log", encoding: .utf8)
        XCTAssertTrue(log.contains("starting point-in-time recovery"), log)
        XCTAssertTrue(log.contains("recovery stopping before commit"), log)
        XCTAssertTrue(log.contains("restored log file"), log)
    }

    /// Waits until the restored server accepts connections and has left recovery.
    private func waitForPromotion(_ conninfo: String, timeout: Double = 90) throws -> PGConnection {
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < deadline {
            do {
                let c = try PGConnection(conninfo)
                if try c.value("SELECT pg_is_in_recovery()::text") == "false" { return c }
            } catch { last = String(describing: error) }
            usleep(200_000)
        }
        throw Failure("the restored server did not finish recovery within \(timeout) s: \(last)")
    }
}

import CairnPostgres
import Foundation
import XCTest

/// A segment the archive lacks (an archive_command that lost one) makes
/// `wal-check` and `pg restore` fail, naming it, before anything is written.
final class GapTests: XCTestCase {
    func testAGapFailsWalCheckAndRestoreBeforeWriting() throws {
        let sandbox = try Sandbox()
        let cluster = try PostgresCluster(sandbox: sandbox)
        defer { cluster.stop() }
        let conn = try cluster.connect()
        try conn.query("CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g")
        try sandbox.cairnRun(["pg", "basebackup", "--dbname", cluster.conninfo]).check("pg basebackup")
        // The next segment to be finished is "archived" by a command that stores nothing. (Write first:
        // right after the backup's switch the position is on a segment boundary, which names the previous one.)
        try conn.query("INSERT INTO t VALUES (0)")
        let lost = try conn.value("SELECT pg_walfile_name(pg_current_wal_lsn())")
        let push = "\(sandbox.cairn) wal-push --env-file \(sandbox.envFile) %p"
        try conn.query(try conn.value("SELECT format('ALTER SYSTEM SET archive_command = %L', $1::text)", ["test %f = \(lost) || \(push)"]))
        try conn.query("SELECT pg_reload_conf()")
        usleep(300_000)
        for _ in 0..<3 {
            try conn.query("INSERT INTO t SELECT g FROM generate_series(1, 1000) g")
            try cluster.switchAndWaitForArchive(conn)
        }
        let check = try sandbox.cairnRun(["pg", "wal-check"])
        XCTAssertEqual(check.status, 1, check.summary)
        XCTAssertTrue(check.out.contains("GAP") && check.out.contains(lost), check.summary)
        XCTAssertTrue(check.out.contains("NOT restorable"), check.summary)

        let pgdata = sandbox.dir + "/restored"
        let restore = try sandbox.cairnRun(["pg", "restore", "--pgdata", pgdata, "--latest"])
        XCTAssertEqual(restore.status, 1, restore.summary)
        XCTAssertTrue(restore.err.contains("gap") && restore.err.contains(lost), restore.summary)
        XCTAssertEqual(restore.err.split(separator: "\n").count, 1, restore.summary)
        XCTAssertFalse(FileManager.default.fileExists(atPath: pgdata), "nothing may be written before the check")
    }
}

import CairnPostgres
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `cairn pg basebackup --stream` against a real PostgreSQL cluster: the tar
/// stream of `pg_basebackup -D - -Ft -X none` stored as a snapshot with the
/// base-backup facts, then rows committed and WAL switched, then
/// `cairn pg restore --latest` unpacks it into a fresh PGDATA that recovers.
final class StreamedBaseBackupTests: XCTestCase {
    func testStreamedBaseBackupRestoresToLatest() throws {
        let sandbox = try Sandbox()
        let cluster = try PostgresCluster(sandbox: sandbox)
        defer { cluster.stop() }
        let conn = try cluster.connect()
        try conn.query("CREATE TABLE items(id int PRIMARY KEY, note text NOT NULL)")
        try conn.query("INSERT INTO items SELECT g, 'before ' || g FROM generate_series(1, 500) g")

        let backup = try sandbox.cairnRun(["pg", "basebackup", "--stream", "--name", "pg-remote", "--dbname", cluster.conninfo, "--json"])
        try backup.check("pg basebackup --stream")
        let bb = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(backup.out.utf8)) as? [String: Any])
        XCTAssertEqual(bb["timeline"] as? String, "1")
        XCTAssertEqual(bb["system_id"] as? String, try conn.value("SELECT system_identifier::text FROM pg_control_system()"))
        let start = try XCTUnwrap((bb["start_lsn"] as? String).flatMap { LSN($0) }, backup.out)
        let stop = try XCTUnwrap((bb["stop_lsn"] as? String).flatMap { LSN($0) }, backup.out)
        XCTAssertLessThanOrEqual(start, stop)
        let snapshotID = try XCTUnwrap(bb["snapshot_id"] as? String)

        try conn.query("INSERT INTO items SELECT g, 'after ' || g FROM generate_series(501, 800) g")
        try conn.query("CREATE TABLE later(x int)")
        try conn.query("INSERT INTO later VALUES (42)")
        try cluster.switchAndWaitForArchive(conn)

        let pgdata = sandbox.dir + "/restored"
        let restore = try sandbox.cairnRun(["pg", "restore", "--pgdata", pgdata, "--latest", "--json"])
        try restore.check("pg restore")
        let r = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(restore.out.utf8)) as? [String: Any])
        XCTAssertEqual(r["base_snapshot"] as? String, snapshotID)
        let label = try String(contentsOfFile: pgdata + "/backup_label", encoding: .utf8)
        XCTAssertTrue(label.hasPrefix("START WAL LOCATION: \(start) ("), label)
        XCTAssertTrue(label.contains("BACKUP METHOD: streamed"), label)
        XCTAssertTrue(FileManager.default.fileExists(atPath: pgdata + "/recovery.signal"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: pgdata + "/pg_wal/archive_status"))
        var st = stat()
        XCTAssertEqual(stat(pgdata, &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o700)
        XCTAssertEqual(stat(pgdata + "/global", &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o700)

        let port = PostgresCluster.freePort()
        let conf = try FileHandle(forWritingTo: URL(fileURLWithPath: pgdata + "/postgresql.conf"))
        conf.seekToEndOfFile(); conf.write(Data("\nport = \(port)\n".utf8)); try conf.close()
        try cluster.start(dataDirectory: pgdata)
        defer { cluster.stop(dataDirectory: pgdata) }
        let restored = try waitForPromotion("host=\(sandbox.dir) port=\(port) user=postgres dbname=postgres")
        XCTAssertEqual(try restored.value("SELECT count(*) FROM items"), "800")
        XCTAssertEqual(try restored.value("SELECT count(*) FROM items WHERE note LIKE 'after %'"), "300")
        XCTAssertEqual(try restored.value("SELECT x FROM later"), "42")
    }

    /// A bad connection fails in one line, before pg_basebackup runs, and stores nothing.
    func testStreamWithUnreachableServerFailsInOneLine() throws {
        let sandbox = try Sandbox()
        _ = try PostgresCluster.binaries()
        let r = try sandbox.cairnRun(["pg", "basebackup", "--stream", "--dbname", "host=\(sandbox.dir) port=1 user=postgres"])
        XCTAssertEqual(r.status, 1, r.summary)
        XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.summary)
        XCTAssertTrue(r.err.contains("cannot connect"), r.summary)
        let given = try sandbox.cairnRun(["pg", "basebackup", "--stream", "--pgdata", "/x"])
        XCTAssertNotEqual(given.status, 0, given.summary)
        XCTAssertTrue(given.err.contains("--stream"), given.summary)
    }

    /// A pg_basebackup that fails (no WAL senders allowed) fails the command in one line and leaves no snapshot.
    func testFailingPgBasebackupLeavesNoSnapshot() throws {
        let sandbox = try Sandbox()
        let cluster = try PostgresCluster(sandbox: sandbox, extraConfig: ["max_wal_senders = 0"])
        defer { cluster.stop() }
        let r = try sandbox.cairnRun(["pg", "basebackup", "--stream", "--dbname", cluster.conninfo])
        XCTAssertEqual(r.status, 1, r.summary)
        XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.summary)
        XCTAssertTrue(r.err.contains("pg_basebackup failed"), r.summary)
        let list = try sandbox.cairnRun(["snapshots", "--json"], env: sandbox.repositoryEnvironment).check("snapshots")
        XCTAssertFalse(list.out.contains("pg-base"), list.out)
    }

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

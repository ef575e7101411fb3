@testable import CairnEngine
@testable import CairnRepository
import CairnPostgres
import CairnStorage
import CairnTar
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
        // Names in PGDATA need not be UTF-8: the stream restore keeps their bytes (issue 14.12).
        let cafe: [UInt8] = Array("caf".utf8) + [0xe9]
        for dir in [cluster.data, cluster.data + "/global"] {
            let path = Array(dir.utf8) + [47] + cafe
            let fd = (path + [0]).withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_WRONLY | O_CREAT, 0o600) } }
            XCTAssertGreaterThanOrEqual(fd, 0)
            _ = write(fd, "x", 1)
            fchown(fd, sandbox.uid, sandbox.gid)
            close(fd)
        }

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
        for dir in [pgdata, pgdata + "/global"] {
            XCTAssertTrue(DirectoryReader.names(dir)?.contains(cafe) == true, "\(dir) holds caf\\xe9 byte-exact: \(DirectoryReader.names(dir) ?? [])")
        }

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

    /// `cairn pg restore` as root of a forged streamed base backup (issue 14.6,
    /// 15.4): a symlink member with a member under it, a hard link to
    /// `../outside/victim`. The restore refuses, nothing outside PGDATA is
    /// written or chowned (the old extractor overwrote the victim and chowned
    /// it to postgres).
    func testForgedStreamedBaseBackupWritesNothingOutsidePGDATA() async throws {
        guard geteuid() == 0 else { throw XCTSkip("runs pg restore as root, as the runbook does") }
        let sandbox = try Sandbox()
        let cluster = try PostgresCluster(sandbox: sandbox)
        defer { cluster.stop() }
        let conn = try cluster.connect()
        let backup = try sandbox.cairnRun(["pg", "basebackup", "--stream", "--dbname", cluster.conninfo, "--json"])
        try backup.check("pg basebackup --stream")
        try conn.query("CREATE TABLE after_backup AS SELECT 1 AS x")
        try cluster.switchAndWaitForArchive(conn)
        let bb = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(backup.out.utf8)) as? [String: Any])
        let honestID = try XCTUnwrap(bb["snapshot_id"] as? String)

        let outside = sandbox.dir + "/outside"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        let victim = outside + "/victim"
        XCTAssertTrue(FileManager.default.createFile(atPath: victim, contents: Data("root's own\n".utf8), attributes: [.posixPermissions: 0o600]))

        // The forger: a client with the key storing the honest stream with hostile members in front, under the same facts.
        let repo = try await Repository.open(store: LocalStore(root: sandbox.repo), passphrase: Array("correct horse battery staple".utf8),
                                             cacheBase: sandbox.dir + "/forge-cache")
        let honest = try repo.resolveSnapshot(honestID)
        var stream: [UInt8] = []
        _ = try await Restorer(repo: repo, snapshot: honest).restoreSingleFile { stream += $0 }
        func member(_ path: String, _ kind: TarEntry.Kind, _ content: [UInt8] = []) -> [UInt8] {
            TarWriter.header(for: TarEntry(path: Array(path.utf8), kind: kind, mode: 0o600, size: UInt64(content.count))) + content +
                [UInt8](repeating: 0, count: TarWriter.padding(for: UInt64(content.count)))
        }
        let attacks = [
            member("evil", .symlink(target: Array(outside.utf8))) + member("evil/victim", .file, Array("planted".utf8)),
            member("PG_VERSION", .file, Array("15\n".utf8)) + member("hl", .hardLink(target: Array("../outside/victim".utf8))),
        ]
        // root's own cache, so the postgres user's stays its own.
        let rootEnv = sandbox.dir + "/root.env"
        try "CAIRN_REPO=\(sandbox.repo)\nCAIRN_PASSWORD_FILE=\(sandbox.dir)/passphrase\nCAIRN_CACHE_DIR=\(sandbox.dir)/root-cache\n"
            .write(toFile: rootEnv, atomically: true, encoding: .utf8)
        chmod(rootEnv, 0o600)
        for (i, prefix) in attacks.enumerated() {
            var options = BackupOptions(name: honest.snapshot.name)
            options.extra = honest.snapshot.extra
            let forged = try await withPipeInput(prefix + stream) { fd in try await Archiver(repo: repo, options: options).backup(streamFD: fd) }
            let pgdata = sandbox.dir + "/restored-\(i)"
            let r = try Runner.run([sandbox.cairn, "pg", "restore", "--pgdata", pgdata, "--snapshot", forged.snapshotID, "--latest"],
                                   env: ["CAIRN_ENV_FILE": rootEnv],
                                   stdin: nil, cwd: sandbox.dir, timeout: 120)
            XCTAssertEqual(r.status, 1, r.summary)
            XCTAssertTrue(r.err.contains("refused"), r.summary)
            XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.summary)
            XCTAssertEqual(try String(contentsOfFile: victim, encoding: .utf8), "root's own\n", "attack \(i): victim overwritten")
            var st = stat()
            XCTAssertEqual(lstat(victim, &st), 0)
            XCTAssertEqual(st.st_uid, 0, "attack \(i): victim chowned")
            XCTAssertEqual(st.st_nlink, 1, "attack \(i): victim linked into PGDATA")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outside), ["victim"])
        }
    }

    /// Feeds `bytes` to `body` through a pipe written from another thread.
    private func withPipeInput<R>(_ bytes: [UInt8], _ body: (Int32) async throws -> R) async throws -> R {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw Failure("pipe failed") }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        let writer = Thread {
            bytes.withUnsafeBytes { b in
                var off = 0
                while off < b.count {
                    let n = write(writeEnd, b.baseAddress! + off, b.count - off)
                    if n <= 0 { break }
                    off += n
                }
            }
            close(writeEnd)
        }
        writer.start()
        defer { close(readEnd) }
        return try await body(readEnd)
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

import CairnPostgres
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `wal-fetch`'s spool and its background fetcher (issue 16.2): what PostgreSQL gets is always the
/// archived content (a damaged spooled copy is never served, a killed fetcher leaves nothing that
/// would be), the spool is private, and a point-in-time recovery through it stops at the target
/// with exactly the rows committed before it.
final class WALSpoolTests: XCTestCase {
    /// Pushes `count` segments of random content (1 MiB, numbered as 16 MiB segments from 0x20) and returns their names.
    private func pushSegments(_ sandbox: Sandbox, count: Int, size: Int = 1 << 20) throws -> [String] {
        var names: [String] = []
        for i in 0..<count {
            let name = WALFileName.segment(timeline: 1, number: UInt64(0x20 + i), segmentSize: UInt64(16 << 20))
            let path = sandbox.dir + "/" + name
            var rng = SeededBytes(seed: UInt64(100 + i))
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(rng.bytes(size))))
            chown(path, sandbox.uid, sandbox.gid)
            try sandbox.cairnRun(["wal-push", path]).check("wal-push \(name)")
            names.append(name)
        }
        return names
    }

    private func pgWal(_ sandbox: Sandbox) throws -> String {
        let wal = sandbox.dir + "/pg_wal"
        try FileManager.default.createDirectory(atPath: wal, withIntermediateDirectories: true)
        chown(wal, sandbox.uid, sandbox.gid)
        return wal
    }

    /// Waits until no fetcher holds the spool's lock.
    private func waitForFetcher(_ spool: String, timeout: Double = 60) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let fd = open(spool + "/lock", O_RDWR)
            if fd < 0 { return }
            defer { close(fd) }
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { return }
            usleep(20_000)
        }
        throw Failure("the background fetcher still runs after \(timeout) s")
    }

    private func spooled(_ spool: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: spool)) ?? []).filter { $0.count == 24 + 1 + 64 }.sorted()
    }

    func testSpooledSegmentsAreServedOnlyWhenTheyStillHaveTheirArchivedHash() throws {
        _ = try PostgresCluster.binaries()
        let sandbox = try Sandbox()
        let names = try pushSegments(sandbox, count: 6)
        let wal = try pgWal(sandbox)
        let spool = wal + "/.cairn-prefetch"
        let dest = wal + "/RECOVERYXLOG"

        // The first request starts the fetcher, which reads ahead; the spool is private.
        try sandbox.cairnRun(["wal-fetch", "--prefetch", "4", names[0], dest]).check("wal-fetch \(names[0])")
        XCTAssertEqual(FileManager.default.contents(atPath: dest), FileManager.default.contents(atPath: sandbox.dir + "/" + names[0]))
        let deadline = Date().addingTimeInterval(60)
        while spooled(spool).count < 4 && Date() < deadline { usleep(20_000) }
        var st = stat()
        XCTAssertEqual(stat(spool, &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o700)
        XCTAssertEqual(st.st_uid, sandbox.uid)
        let files = spooled(spool)
        XCTAssertEqual(files.map { String($0.prefix(24)) }, Array(names[1...4]), "four segments read ahead")
        let log = try String(contentsOfFile: spool + "/fetcher.log", encoding: .utf8)
        XCTAssertTrue(log.contains("reading ahead from \(names[0])"), log)
        XCTAssertFalse(log.contains("correct horse"), "no secret in the fetcher's output")
        // Not in the fetcher's command line or environment either.
        if let pid = try? String(contentsOfFile: spool + "/lock", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) {
            for what in ["cmdline", "environ"] {
                if let data = FileManager.default.contents(atPath: "/proc/\(pid)/\(what)") {
                    let text = String(decoding: data, as: UTF8.self)
                    XCTAssertFalse(text.contains("correct horse"), what)
                    XCTAssertFalse(text.contains("CAIRN_PASSWORD"), what)
                }
            }
        }

        // A spooled copy that no longer has its archived SHA-256 (one byte changed) is never served.
        let damaged = spool + "/" + files[0]
        let fd = open(damaged, O_RDWR)
        XCTAssertGreaterThanOrEqual(fd, 0)
        var byte: UInt8 = 0
        XCTAssertEqual(pread(fd, &byte, 1, 4096), 1)
        byte ^= 0xFF
        XCTAssertEqual(pwrite(fd, &byte, 1, 4096), 1)
        close(fd)
        // With the repository gone, the damaged segment cannot be served at all; an intact one still is.
        XCTAssertEqual(rename(sandbox.repo, sandbox.repo + ".away"), 0)
        unlink(dest)
        let refused = try sandbox.cairnRun(["wal-fetch", "--prefetch", "4", "--attempts", "1", names[1], dest])
        XCTAssertGreaterThanOrEqual(refused.status, 126, refused.summary)
        XCTAssertTrue(refused.err.contains("SHA-256"), refused.summary)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dest), "nothing written for the damaged copy")
        XCTAssertFalse(FileManager.default.fileExists(atPath: damaged), "the damaged copy is removed")
        unlink(dest)
        let intact = try sandbox.cairnRun(["wal-fetch", "--prefetch", "4", names[2], dest])
        XCTAssertEqual(intact.status, 0, intact.summary)
        XCTAssertEqual(FileManager.default.contents(atPath: dest), FileManager.default.contents(atPath: sandbox.dir + "/" + names[2]))
        XCTAssertEqual(rename(sandbox.repo + ".away", sandbox.repo), 0)
        // Back from the repository: the archived content.
        try sandbox.cairnRun(["wal-fetch", "--prefetch", "4", names[1], dest]).check("wal-fetch \(names[1]) again")
        XCTAssertEqual(FileManager.default.contents(atPath: dest), FileManager.default.contents(atPath: sandbox.dir + "/" + names[1]))

        // Past the end of the archive: exit 1 (the repository decides), as without a spool.
        for name in names[3...] { try sandbox.cairnRun(["wal-fetch", "--prefetch", "4", name, dest]).check("wal-fetch \(name)") }
        let next = WALFileName.segment(timeline: 1, number: UInt64(0x20 + names.count), segmentSize: UInt64(16 << 20))
        let absent = try sandbox.cairnRun(["wal-fetch", "--prefetch", "4", next, dest])
        XCTAssertEqual(absent.status, 1, absent.summary)
        XCTAssertTrue(spooled(spool).isEmpty, "segments PostgreSQL has passed are removed: \(spooled(spool))")
    }

    func testAKilledFetcherLeavesNothingThatIsServedAndAnOpenSpoolIsNotUsed() throws {
        _ = try PostgresCluster.binaries()
        let sandbox = try Sandbox()
        let names = try pushSegments(sandbox, count: 8, size: 8 << 20)
        let wal = try pgWal(sandbox)
        let spool = wal + "/.cairn-prefetch"
        let dest = wal + "/RECOVERYXLOG"
        try sandbox.cairnRun(["wal-fetch", "--fetch-jobs", "1", names[0], dest]).check("wal-fetch \(names[0])")
        // Kill the fetcher as soon as it writes a segment (SIGKILL: no clean-up of its own).
        let deadline = Date().addingTimeInterval(60)
        var killed = false
        while Date() < deadline && !killed {
            let inProgress = ((try? FileManager.default.contentsOfDirectory(atPath: spool)) ?? []).contains { $0.contains(".tmp.") }
            if inProgress, let text = try? String(contentsOfFile: spool + "/lock", encoding: .utf8),
               let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                killed = kill(pid, SIGKILL) == 0
            }
            usleep(1_000)
        }
        XCTAssertTrue(killed, "the fetcher was seen writing and killed")
        try waitForFetcher(spool)
        // Whatever it left complete is intact; the rest is a temporary file, never served.
        for f in spooled(spool) {
            let name = String(f.prefix(24))
            XCTAssertEqual(FileManager.default.contents(atPath: spool + "/" + f), FileManager.default.contents(atPath: sandbox.dir + "/" + name), f)
        }
        // Recovery goes on: every later segment arrives byte-identical, and the leftovers are removed.
        for name in names[1...] {
            try sandbox.cairnRun(["wal-fetch", "--fetch-jobs", "1", name, dest]).check("wal-fetch \(name)")
            XCTAssertEqual(FileManager.default.contents(atPath: dest), FileManager.default.contents(atPath: sandbox.dir + "/" + name), name)
        }
        try waitForFetcher(spool)
        XCTAssertFalse(((try? FileManager.default.contentsOfDirectory(atPath: spool)) ?? []).contains { $0.hasPrefix(".") && $0.contains(".tmp.") })

        // A spool others may write to is not used: the segment comes from the repository, nothing is spooled there.
        let open = sandbox.dir + "/open-spool"
        try FileManager.default.createDirectory(atPath: open, withIntermediateDirectories: false)
        chown(open, sandbox.uid, sandbox.gid)
        chmod(open, 0o777)
        let direct = try sandbox.cairnRun(["wal-fetch", "--spool", open, names[3], dest])
        XCTAssertEqual(direct.status, 0, direct.summary)
        XCTAssertTrue(direct.err.contains("chmod 700"), direct.summary)
        XCTAssertEqual(FileManager.default.contents(atPath: dest), FileManager.default.contents(atPath: sandbox.dir + "/" + names[3]))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: open), [])
    }

    func testPointInTimeRecoveryThroughTheSpoolStopsAtTheTargetWithExactRows() throws {
        let sandbox = try Sandbox()
        let cluster = try PostgresCluster(sandbox: sandbox)
        defer { cluster.stop() }
        let conn = try cluster.connect()
        try conn.query("CREATE TABLE events(id serial PRIMARY KEY, note text)")
        try sandbox.cairnRun(["pg", "basebackup", "--dbname", cluster.conninfo]).check("pg basebackup")
        // Nine segments, each ending in a switch (archive_timeout's nearly empty segments); the target after the sixth.
        var target: (rows: Int, at: String)? = nil
        for batch in 1...9 {
            try conn.query("INSERT INTO events(note) SELECT 'batch \(batch) row ' || g FROM generate_series(1, \(batch * 10)) g")
            if batch == 6 {
                target = (Int(try conn.value("SELECT count(*) FROM events"))!,
                          try conn.value("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"))
                usleep(100_000)
            }
            try cluster.switchAndWaitForArchive(conn)
        }
        let goal = try XCTUnwrap(target)
        let pgdata = sandbox.dir + "/restored"
        try sandbox.cairnRun(["pg", "restore", "--pgdata", pgdata, "--target-time", goal.at]).check("pg restore")
        let port = PostgresCluster.freePort()
        let conf = try FileHandle(forWritingTo: URL(fileURLWithPath: pgdata + "/postgresql.conf"))
        conf.seekToEndOfFile(); conf.write(Data("\nport = \(port)\n".utf8)); try conf.close()
        try cluster.start(dataDirectory: pgdata)
        defer { cluster.stop(dataDirectory: pgdata) }
        let deadline = Date().addingTimeInterval(120)
        var restored: PGConnection? = nil
        while Date() < deadline, restored == nil {
            if let c = try? PGConnection("host=\(sandbox.dir) port=\(port) user=postgres dbname=postgres"),
               (try? c.value("SELECT pg_is_in_recovery()::text")) == "false" { restored = c }
            else { usleep(200_000) }
        }
        let db = try XCTUnwrap(restored, "the restored server did not finish recovery")
        XCTAssertEqual(try db.value("SELECT count(*) FROM events"), String(goal.rows))
        XCTAssertEqual(try db.value("SELECT count(*) FROM events WHERE note LIKE 'batch 7 %'"), "0")
        let log = try String(contentsOfFile: pgdata + ".log", encoding: .utf8)
        XCTAssertTrue(log.contains("recovery stopping before commit"), log)
        XCTAssertGreaterThanOrEqual(log.components(separatedBy: "restored log file").count - 1, 6, log)
        // The segments came through the spool: the fetcher ran and said what it fetched. On failure: its
        // log, and PostgreSQL's requests in order (a segment read again, the last replayed one once
        // recovery has read past the target, was what waited before the fetcher's window shrank at the end).
        let fetcherLog = try String(contentsOfFile: pgdata + "/pg_wal/.cairn-prefetch/fetcher.log", encoding: .utf8)
        let evidence = fetcherLog + "\n" + log.split(separator: "\n").filter {
            $0.contains("wal-fetch") || $0.contains("restored log file") || $0.contains("recovery stopping")
        }.joined(separator: "\n")
        XCTAssertFalse(log.contains("did not deliver"), "the fetcher kept up: no segment waited for the fallback\n" + evidence)
        XCTAssertTrue(fetcherLog.contains("reading ahead from"), evidence)
        var st = stat()
        XCTAssertEqual(stat(pgdata + "/pg_wal/.cairn-prefetch", &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o700)
    }
}

/// Deterministic bytes (xorshift) for test segments.
struct SeededBytes {
    var x: UInt64
    init(seed: UInt64) { x = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
    mutating func bytes(_ n: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: n)
        out.withUnsafeMutableBytes { raw in
            var i = 0
            while i + 8 <= n {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17
                raw.storeBytes(of: x, toByteOffset: i, as: UInt64.self)
                i += 8
            }
        }
        return out
    }
}

import CairnPostgres
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Issue 14.3/14.4: the runbook's deployment. root runs backups and base
/// backups, PostgreSQL archives as `postgres` with `cairn wal-push` into the
/// same repository, set up once as Docs/postgres.md says (root:postgres,
/// group read/write, setgid directories).
final class SharedRepositoryTests: XCTestCase {
    /// Runs `cairn` as root (umask 022, as a root shell or systemd has) with the env file.
    private func rootCairn(_ sb: Sandbox, _ home: String, _ args: [String], timeout: Double = 300) throws -> RunResult {
        try Runner.run([sb.cairn] + args, env: sb.repositoryEnvironment.merging(["CAIRN_ENV_FILE": sb.envFile, "HOME": home]) { $1 },
                       stdin: nil, cwd: sb.dir, timeout: timeout)
    }

    private func shell(_ command: String) throws {
        try Runner.run(["/bin/sh", "-c", command], env: [:], stdin: nil, cwd: "/", timeout: 60).check(command)
    }

    /// The documented one-time setup of a repository shared by root and postgres.
    private func share(_ sb: Sandbox) throws {
        try shell("chown -R root:postgres '\(sb.repo)' && chmod -R g+rwX,o-rwx '\(sb.repo)' && find '\(sb.repo)' -type d -exec chmod g+s {} +")
    }

    func testRootAndPostgresShareOneRepository() throws {
        guard geteuid() == 0 else { throw XCTSkip("root and postgres sharing a repository needs the tests to run as root") }
        _ = try PostgresCluster.binaries()
        let previousUmask = umask(0o022)
        defer { umask(previousUmask) }
        let sb = try Sandbox()
        try share(sb)
        // root's own cache: the env file's CAIRN_CACHE_DIR belongs to postgres and is skipped.
        let rootHome = sb.dir + "/root-home"
        XCTAssertEqual(mkdir(rootHome, 0o700), 0)
        let cluster = try PostgresCluster(sandbox: sb, extraConfig: ["wal_keep_size = 1GB"])
        defer { cluster.stop() }
        let conn = try cluster.connect()
        try conn.query("CREATE TABLE t (id int, payload text)")

        let src = sb.dir + "/files"
        XCTAssertEqual(mkdir(src, 0o755), 0)
        /// New WAL, a switch, and a wait until postgres's wal-push archived it.
        func archiveSome() throws {
            try conn.query("INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 5000) g")
            try cluster.switchAndWaitForArchive(conn)
        }
        for round in 0..<3 {
            try archiveSome()
            try Data((0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* (round + 7)) }).write(to: URL(fileURLWithPath: "\(src)/f\(round)"))
            try rootCairn(sb, rootHome, ["backup", src, "--name", "files"]).check("root backup \(round)")
            try archiveSome()
        }

        // A base backup as root: it holds its lock while PostgreSQL archives (as postgres) the
        // WAL the backup needs. It used to hang here; it must finish well within its bound.
        let started = Date()
        let base = try rootCairn(sb, rootHome, ["pg", "basebackup", "--dbname", cluster.conninfo, "--archive-timeout", "2m"], timeout: 240)
        try base.check("root base backup")
        XCTAssertLessThan(Date().timeIntervalSince(started), 120)

        // A backup that holds its lock (reading a pipe nobody writes): postgres reads the lock and keeps archiving.
        let held = Process()
        held.executableURL = URL(fileURLWithPath: sb.cairn)
        held.arguments = ["backup", "--stdin", "--name", "held"]
        held.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CAIRN_") }
            .merging(sb.repositoryEnvironment.merging(["HOME": rootHome]) { $1 }) { $1 }
        let input = Pipe()
        held.standardInput = input
        held.standardOutput = FileHandle.nullDevice
        held.standardError = FileHandle.nullDevice
        try held.run()
        var locks: [[String: Any]] = []
        for _ in 0..<200 {
            let l = try sb.cairnRun(["locks", "--json"], env: sb.repositoryEnvironment)
            locks = (try? JSONSerialization.jsonObject(with: Data(l.out.utf8)) as? [[String: Any]]) ?? []
            if !locks.isEmpty { break }
            usleep(50_000)
        }
        XCTAssertEqual(locks.count, 1, "postgres sees root's lock")
        XCTAssertEqual(locks.first?["user"] as? String, "root", "postgres can read root's lock: \(locks)")
        try archiveSome()
        // Killed: its lock and staged pack stay behind; archiving goes on, and the next writer cleans up.
        kill(held.processIdentifier, SIGKILL)
        held.waitUntilExit()
        try archiveSome()
        try rootCairn(sb, rootHome, ["backup", src, "--name", "files"]).check("root backup after the kill")
        let after = try sb.cairnRun(["locks", "--json"], env: sb.repositoryEnvironment)
        XCTAssertEqual(after.out.trimmingCharacters(in: .whitespacesAndNewlines), "[]", after.summary)

        // Nothing failed: no push was refused, the server log has no permission error.
        let failed = try conn.value("SELECT failed_count FROM pg_stat_archiver")
        let log = String(decoding: FileManager.default.contents(atPath: cluster.logPath) ?? Data(), as: UTF8.self)
        XCTAssertEqual(failed, "0", String(log.suffix(3000)))
        XCTAssertFalse(log.contains("ermission denied"), String(log.suffix(3000)))

        // Every segment PostgreSQL archived comes back byte for byte, fetched as postgres (restore_command).
        let done = try FileManager.default.contentsOfDirectory(atPath: cluster.data + "/pg_wal/archive_status")
            .filter { $0.hasSuffix(".done") }.map { String($0.dropLast(5)) }.filter { $0.count == 24 }.sorted()
        XCTAssertGreaterThanOrEqual(done.count, 8)
        for name in done {
            let out = sb.dir + "/fetched-" + name
            try sb.cairnRun(["wal-fetch", name, out]).check("wal-fetch \(name)")
            XCTAssertTrue(FileManager.default.contents(atPath: out) == FileManager.default.contents(atPath: cluster.data + "/pg_wal/" + name),
                          "segment \(name) restores byte-identical")
            unlink(out)
        }

        // Everything in the repository keeps the group and its read/write access; tmp/ holds nothing.
        let find = try Runner.run(["/usr/bin/find", sb.repo, "(", "!", "-group", "postgres", "-o", "!", "-perm", "-g+rw", "-o", "-type", "d", "!", "-perm", "-g+xs", ")", "-print"],
                                  env: [:], stdin: nil, cwd: "/", timeout: 60)
        XCTAssertEqual(find.out, "", "entries without the group's access")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: sb.repo + "/tmp"), [], "stale temporary files were removed")
        // root's cache is root's own; postgres's cache has nothing of root's.
        let rootOwned = try Runner.run(["/usr/bin/find", sb.dir + "/cache", "-user", "root"], env: [:], stdin: nil, cwd: "/", timeout: 60)
        XCTAssertEqual(rootOwned.out, "", "root wrote into postgres's cache")
    }

    /// Archiving that fails: a base backup fails in bounded time with a clear
    /// error (not recorded, no lock left), and `cairn status` raises the alarm
    /// from pg_stat_archiver before the RPO is lost.
    func testFailingArchivingBoundsTheBaseBackupAndAlerts() throws {
        _ = try PostgresCluster.binaries()
        let sb = try Sandbox()
        let cluster = try PostgresCluster(sandbox: sb, archiveCommand: "/bin/false")
        defer { cluster.stop() }
        let conn = try cluster.connect()
        _ = try conn.query("SELECT pg_switch_wal()")

        let started = Date()
        let base = try sb.cairnRun(["pg", "basebackup", "--dbname", cluster.conninfo, "--archive-timeout", "3s"])
        XCTAssertEqual(base.status, 1, base.summary)
        XCTAssertLessThan(Date().timeIntervalSince(started), 60, "bounded wait")
        XCTAssertTrue(base.err.contains("was not archived within 3 s"), base.summary)
        XCTAssertTrue(base.err.contains("failed attempt"), base.summary)
        let snaps = try sb.cairnRun(["snapshots", "--json"], env: sb.repositoryEnvironment)
        XCTAssertFalse(snaps.out.contains("pg-base"), "the base backup was not recorded: \(snaps.out)")
        let locks = try sb.cairnRun(["locks", "--json"], env: sb.repositoryEnvironment)
        XCTAssertEqual(locks.out.trimmingCharacters(in: .whitespacesAndNewlines), "[]", locks.summary)

        // status: the WAL source's newest segment is within its RPO (none yet, but that is a separate
        // finding); what matters is the archiver finding, exit 5.
        let plan = sb.dir + "/plan.toml"
        try sb.write(plan, """
            [repository.onsite]
            url = "\(sb.repo)"
            password-file = "\(sb.dir)/passphrase"

            [source.wal]
            kind = "pg-wal"
            repository = "onsite"
            dbname = "\(cluster.conninfo)"
            """)
        let status = try sb.cairnRun(["status", "--plan", plan, "--json"])
        XCTAssertEqual(status.status, 5, status.summary)
        XCTAssertTrue(status.out.contains("archive_command is failing"), status.summary)
    }
}

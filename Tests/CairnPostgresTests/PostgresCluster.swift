import CairnOps
import CairnPostgres
import CairnTestSupport
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL cluster for one test, archiving WAL into the
/// sandbox's Cairn repository through the real `cairn wal-push`: CairnOps'
/// `TemporaryPostgres` (the one PostgreSQL launcher, the drills' too) in the
/// sandbox directory with archiving settings. `stop()` (or deinit) shuts it down.
final class PostgresCluster {
    let server: TemporaryPostgres
    let bin: String
    let dir: String
    let data: String
    let port: Int
    let sandbox: Sandbox

    /// Finds the server binaries; skips the test when PostgreSQL is not installed, fails it under CI=true.
    static func binaries(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        do {
            return try TemporaryPostgres.binaries(configured: nil)
        } catch {
            throw RequiredProgram.missing("\(error); install postgresql-15 (scripts/setup.sh)", file: file, line: line)
        }
    }

    /// Creates and starts a cluster archiving into `sandbox`'s repository under WAL name `walName`.
    init(sandbox: Sandbox, walName: String = "pg-wal", archiveCommand: String? = nil, extraConfig: [String] = []) throws {
        let bin = try Self.binaries()
        let archive = archiveCommand ?? "\(sandbox.cairn) wal-push --env-file \(sandbox.envFile) --wal-name \(walName) %p"
        server = try TemporaryPostgres(directory: sandbox.dir, bin: bin, user: "postgres", settings: [
            "wal_level = replica", "archive_mode = on", "archive_command = '\(archive.replacingOccurrences(of: "'", with: "''"))'",
            "max_wal_senders = 2", "log_min_messages = info",
        ] + extraConfig)
        self.sandbox = sandbox
        self.bin = server.bin
        dir = server.dir
        data = server.data
        port = server.port
    }

    deinit { stop() }

    var conninfo: String { "host=\(dir) port=\(port) user=postgres dbname=postgres" }

    /// The server's log.
    var logPath: String { server.logPath }

    /// Starts another data directory (a restored copy, with its own port in its configuration) as the sandbox's user.
    func start(dataDirectory: String) throws {
        try sandbox.runAsUser([bin + "/pg_ctl", "-D", dataDirectory, "-l", dataDirectory + ".log", "-w", "-t", "60", "start"])
            .check("pg_ctl start", log: dataDirectory + ".log")
    }

    /// Stops the cluster (a fast shutdown: a clean data directory), or the copy in `dataDirectory`.
    func stop(dataDirectory: String? = nil) {
        guard let dataDirectory else { return server.stop(mode: .fast) }
        _ = try? sandbox.runAsUser([bin + "/pg_ctl", "-D", dataDirectory, "-m", "fast", "-w", "stop"])
    }

    /// A libpq connection to database `db`.
    func connect(_ db: String = "postgres") throws -> PGConnection {
        try PGConnection("host=\(dir) port=\(port) user=postgres dbname=\(db)")
    }

    /// Switches to a new WAL segment and waits until the finished one is archived.
    func switchAndWaitForArchive(_ conn: PGConnection, timeout: Double = 60) throws {
        let before = Int(try conn.value("SELECT archived_count FROM pg_stat_archiver")) ?? 0
        _ = try conn.value("SELECT pg_switch_wal()::text")
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if (Int(try conn.value("SELECT archived_count FROM pg_stat_archiver")) ?? 0) > before { return }
            usleep(100_000)
        }
        throw Failure("WAL was not archived within \(timeout) s: " + ((try? conn.value("SELECT last_failed_wal || ' ' || failed_count FROM pg_stat_archiver")) ?? "?"))
    }

    /// A free loopback port (CairnOps' `FreePort`, which the temporary servers use).
    static func freePort() -> Int { FreePort.find() }
}

struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

import CairnPostgres
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL cluster for one test: `initdb` in a temporary
/// directory as an unprivileged user (the `postgres` account when the tests
/// run as root), a unix socket in that directory, a free port, WAL archiving
/// into a Cairn repository through the real `cairn wal-push`. `stop()` (or
/// deinit) shuts it down and removes the directory.
final class PostgresCluster {
    let bin: String
    let dir: String
    let data: String
    let port: Int
    let sandbox: Sandbox
    private(set) var running = false

    /// Finds the server binaries; skips the test when PostgreSQL is not installed, fails it under CI=true.
    static func binaries(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let env = ProcessInfo.processInfo.environment
        var candidates: [String] = []
        if let b = env["CAIRN_PG_BIN"], !b.isEmpty { candidates.append(b) }
        candidates.append("/usr/lib/postgresql/15/bin")
        if let versions = try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql") {
            candidates += versions.compactMap { Int($0) }.filter { $0 >= 12 }.sorted(by: >).map { "/usr/lib/postgresql/\($0)/bin" }
        }
        for c in candidates where access(c + "/initdb", X_OK) == 0 && access(c + "/pg_ctl", X_OK) == 0 { return c }
        let message = "PostgreSQL server binaries not found (looked in \(candidates.joined(separator: ", "))); install postgresql-15 (scripts/setup.sh)"
        if env["CI"] == "true" {
            XCTFail(message, file: file, line: line)
            throw XCTSkip("failed: \(message)")
        }
        throw XCTSkip(message)
    }

    /// Creates and starts a cluster archiving into `sandbox`'s repository under WAL name `walName`.
    init(sandbox: Sandbox, walName: String = "pg-wal", archiveCommand: String? = nil, extraConfig: [String] = []) throws {
        bin = try Self.binaries()
        self.sandbox = sandbox
        dir = sandbox.dir
        data = dir + "/data"
        port = Self.freePort()
        try sandbox.runAsUser([bin + "/initdb", "-D", data, "-A", "trust", "-U", "postgres", "-N", "-E", "UTF8", "--locale=C"]).check("initdb")
        let archive = archiveCommand ?? "\(sandbox.cairn) wal-push --env-file \(sandbox.envFile) --wal-name \(walName) %p"
        let conf = [
            "listen_addresses = ''", "port = \(port)", "unix_socket_directories = '\(dir)'",
            "wal_level = replica", "archive_mode = on", "archive_command = '\(archive.replacingOccurrences(of: "'", with: "''"))'",
            "fsync = off", "shared_buffers = 16MB", "max_wal_senders = 2", "log_min_messages = info",
        ] + extraConfig
        let f = try FileHandle(forWritingTo: URL(fileURLWithPath: data + "/postgresql.conf"))
        f.seekToEndOfFile()
        f.write(Data(("\n" + conf.joined(separator: "\n") + "\n").utf8))
        try f.close()
        try start()
    }

    deinit { stop() }

    var conninfo: String { "host=\(dir) port=\(port) user=postgres dbname=postgres" }

    func start(dataDirectory: String? = nil) throws {
        try sandbox.runAsUser([bin + "/pg_ctl", "-D", dataDirectory ?? data, "-l", (dataDirectory ?? data) + ".log", "-w", "-t", "60", "start"])
            .check("pg_ctl start", log: (dataDirectory ?? data) + ".log")
        if dataDirectory == nil { running = true }
    }

    func stop(dataDirectory: String? = nil) {
        guard dataDirectory != nil || running else { return }
        _ = try? sandbox.runAsUser([bin + "/pg_ctl", "-D", dataDirectory ?? data, "-m", "fast", "-w", "stop"])
        if dataDirectory == nil { running = false }
    }

    /// A libpq connection to database `db`.
    func connect(_ db: String = "postgres") throws -> PGConnection {
        try PGConnection("host=\(dir) port=\(port) user=postgres dbname=\(db)")
    }

    /// Switches to a new WAL segment and waits until the finished one is archived.
    func switchAndWaitForArchive(_ conn: PGConnection, timeout: Double = 60) throws {
        let before = Int(try conn.value("SELECT archived_count FROM pg_stat_archiver")) ?? 0
        let lsn = try conn.value("SELECT pg_current_wal_lsn()::text")
        let switched = try conn.value("SELECT pg_switch_wal()::text")
        guard lsn != switched || true else { return }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if (Int(try conn.value("SELECT archived_count FROM pg_stat_archiver")) ?? 0) > before { return }
            usleep(100_000)
        }
        throw Failure("WAL was not archived within \(timeout) s: " + ((try? conn.value("SELECT last_failed_wal || ' ' || failed_count FROM pg_stat_archiver")) ?? "?"))
    }

    static func freePort() -> Int {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(s) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) } }
        let p = Int(UInt16(bigEndian: addr.sin_port))
        return p == 0 ? 50000 + Int(getpid() % 10000) : p
    }
}

struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

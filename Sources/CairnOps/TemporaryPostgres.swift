import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL cluster for a drill: `initdb` in a scratch
/// directory as an unprivileged user (`user` when running as root), trust
/// authentication on a unix socket in that directory only (no TCP), a free
/// port number for the socket's name. `stop()` shuts it down.
public final class TemporaryPostgres {
    public let bin: String
    public let dir: String
    public let data: String
    public let port: Int
    private let runAs: String?
    private var running = false

    /// The server binaries: `configured`, else /usr/lib/postgresql/15/bin, else the newest installed.
    public static func binaries(configured: String?) throws -> String {
        var candidates: [String] = []
        if let c = configured { candidates.append(c) }
        if let e = ProcessInfo.processInfo.environment["CAIRN_PG_BIN"], !e.isEmpty { candidates.append(e) }
        candidates.append("/usr/lib/postgresql/15/bin")
        if let versions = try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql") {
            candidates += versions.compactMap { Int($0) }.sorted(by: >).map { "/usr/lib/postgresql/\($0)/bin" }
        }
        for c in candidates where access(c + "/initdb", X_OK) == 0 && access(c + "/pg_ctl", X_OK) == 0 { return c }
        throw OpsError.missingProgram("PostgreSQL server binaries not found (looked in \(candidates.joined(separator: ", "))); install postgresql-15 or set drill.pg-bin")
    }

    /// Creates and starts the cluster in `scratch/pg`.
    public init(scratch: String, bin configured: String?, user: String) throws {
        bin = try Self.binaries(configured: configured)
        dir = scratch + "/pg"
        data = dir + "/data"
        port = FreePort.find()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        if geteuid() == 0 {
            guard let pw = getpwnam(user) else { throw OpsError.failed("drilling as root needs the '\(user)' account to run PostgreSQL (set drill.pg-user)") }
            chown(dir, pw.pointee.pw_uid, pw.pointee.pw_gid)
            runAs = user
        } else {
            runAs = nil
        }
        chmod(dir, 0o700)
        try run([bin + "/initdb", "-D", data, "-A", "trust", "-U", "postgres", "-N", "-E", "UTF8", "--locale=C"], "initdb")
        let conf = ["listen_addresses = ''", "port = \(port)", "unix_socket_directories = '\(dir)'", "fsync = off",
                    "shared_buffers = 16MB", "max_wal_senders = 0", "wal_level = minimal", "archive_mode = off"]
        guard let f = FileHandle(forWritingAtPath: data + "/postgresql.conf") else { throw OpsError.failed("cannot configure \(data)") }
        f.seekToEndOfFile()
        f.write(Data(("\n" + conf.joined(separator: "\n") + "\n").utf8))
        try? f.close()
        try run([bin + "/pg_ctl", "-D", data, "-l", dir + "/server.log", "-w", "-t", "120", "start"], "pg_ctl start")
        running = true
    }

    deinit { stop() }

    /// libpq connection string for `database`.
    public func conninfo(_ database: String = "postgres") -> String {
        "host=\(dir) port=\(port) user=postgres dbname='\(database.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'"))'"
    }

    public func stop() {
        guard running else { return }
        running = false
        _ = try? run([bin + "/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"], "pg_ctl stop")
    }

    private func run(_ argv: [String], _ what: String) throws {
        let full = runAs.map { ["/usr/sbin/runuser", "-u", $0, "--"] + argv } ?? argv
        let r = try ChildRunner.run(full, cwd: dir, timeout: 300)
        guard r.status == 0 else {
            let log = FileManager.default.contents(atPath: dir + "/server.log").map { String(decoding: $0, as: UTF8.self).suffix(400) } ?? ""
            throw OpsError.failed("\(what) failed (exit \(r.status)): \(r.lastErrorLine)\(log.isEmpty ? "" : " — server log: \(log)")")
        }
    }
}

import CairnStorage
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL cluster: `initdb` in a scratch directory as an
/// unprivileged user (`user` when running as root), trust authentication on a
/// unix socket in that directory only (no TCP), a free port number for the
/// socket's name. `stop()` shuts it down. The one PostgreSQL launcher: drills
/// use it, and so do the tests (CairnOpsTests directly, CairnPostgresTests'
/// `PostgresCluster` with WAL archiving settings).
public final class TemporaryPostgres {
    public let bin: String
    /// The socket directory; the server log is `logPath` in it.
    public let dir: String
    public let data: String
    public let port: Int
    private let runAs: String?
    private var running = false

    /// How `stop` shuts the server down (pg_ctl's modes).
    public enum ShutdownMode: String, Sendable {
        /// Clients disconnected, a checkpoint written: the data directory is clean.
        case fast
        /// No checkpoint: quickest for a server thrown away.
        case immediate
    }

    /// The server's log file.
    public var logPath: String { dir + "/server.log" }

    /// The server binaries: `configured`, else /usr/lib/postgresql/15/bin, else the newest installed.
    public static func binaries(configured: String?) throws -> String {
        var candidates: [String] = []
        if let c = configured { candidates.append(c) }
        if let e = ProcessInfo.processInfo.environment["CAIRN_PG_BIN"], !e.isEmpty { candidates.append(e) }
        candidates.append("/usr/lib/postgresql/15/bin")
        if let versions = try? DirectoryReader.stringNames("/usr/lib/postgresql") {
            candidates += versions.compactMap { Int($0) }.sorted(by: >).map { "/usr/lib/postgresql/\($0)/bin" }
        }
        for c in candidates where access(c + "/initdb", X_OK) == 0 && access(c + "/pg_ctl", X_OK) == 0 { return c }
        throw OpsError.missingProgram("PostgreSQL server binaries not found (looked in \(candidates.joined(separator: ", "))); install postgresql-15 or set drill.pg-bin")
    }

    /// Creates and starts the cluster in `scratch/pg`; `settings` are configuration lines added after the defaults
    /// (a later line wins, so they may override them: e.g. `wal_level = replica` and `archive_mode = on`).
    public convenience init(scratch: String, bin configured: String?, user: String, settings: [String] = []) throws {
        try self.init(directory: scratch + "/pg", bin: configured, user: user, settings: settings)
    }

    /// Creates and starts the cluster with its socket and log in `directory` and its data in `directory/data`.
    public init(directory: String, bin configured: String?, user: String, settings: [String] = []) throws {
        bin = try Self.binaries(configured: configured)
        dir = directory
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
                    "shared_buffers = 16MB", "max_wal_senders = 0", "wal_level = minimal", "archive_mode = off"] + settings
        guard let f = FileHandle(forWritingAtPath: data + "/postgresql.conf") else { throw OpsError.failed("cannot configure \(data)") }
        f.seekToEndOfFile()
        f.write(Data(("\n" + conf.joined(separator: "\n") + "\n").utf8))
        try? f.close()
        try start()
    }

    /// Starts the server (again, after `stop`).
    public func start() throws {
        try run([bin + "/pg_ctl", "-D", data, "-l", logPath, "-w", "-t", "120", "start"], "pg_ctl start")
        running = true
    }

    /// The owner (uid, gid) a server's files need: that of `user` when root, else ours; nil owner when not root.
    public static func serverAccount(_ user: String) throws -> (name: String, uid: uid_t, gid: gid_t)? {
        guard geteuid() == 0 else { return nil }
        guard let pw = getpwnam(user) else { throw OpsError.failed("drilling as root needs the '\(user)' account to run PostgreSQL (set drill.pg-user)") }
        return (user, pw.pointee.pw_uid, pw.pointee.pw_gid)
    }

    /// Starts a server on a restored data directory `data` (inside `dir`, which holds its socket and log):
    /// the production settings stay, except that it listens on a unix socket in `dir` only, on a free port
    /// number, with trust authentication from a private hba file, no SSL, no archiving, hot standby off (no
    /// queries before the server is promoted). Waits up to `timeout` seconds for `pg_ctl -w`, which returns
    /// when the postmaster reports "ready" or "standby": a server still replaying WAL refuses connections
    /// ("not accepting connections") until it is promoted, so callers retry.
    public init(restoredData data: String, dir: String, bin configured: String?, user: String, timeout: Int) throws {
        bin = try Self.binaries(configured: configured)
        self.dir = dir
        self.data = data
        port = FreePort.find()
        let account = try Self.serverAccount(user)
        runAs = account?.name
        func q(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }
        let hba = dir + "/drill_hba.conf"
        try Data("# written by cairn drill: the unix socket in this private directory only\nlocal all all trust\n".utf8)
            .write(to: URL(fileURLWithPath: hba))
        // A Debian-style data directory has its configuration in /etc: start from an empty one.
        if !FileManager.default.fileExists(atPath: data + "/postgresql.conf") {
            _ = FileManager.default.createFile(atPath: data + "/postgresql.conf", contents: Data())
        }
        let conf = ["", "# Added by 'cairn drill': a private temporary server.",
                    "listen_addresses = ''", "port = \(port)", "unix_socket_directories = \(q(dir))", "hba_file = \(q(hba))",
                    "ssl = off", "archive_mode = off", "hot_standby = off", "logging_collector = off", "fsync = off",
                    "synchronous_commit = off", "synchronous_standby_names = ''", "shared_buffers = 32MB"]
        guard let f = FileHandle(forWritingAtPath: data + "/postgresql.auto.conf") else { throw OpsError.failed("cannot configure \(data)") }
        f.seekToEndOfFile()
        f.write(Data((conf.joined(separator: "\n") + "\n").utf8))
        try? f.close()
        if let a = account {
            for p in [dir, hba, data + "/postgresql.conf", data + "/postgresql.auto.conf"] { chown(p, a.uid, a.gid) }
        }
        chmod(dir, 0o700)
        running = true
        try run([bin + "/pg_ctl", "-D", data, "-l", dir + "/server.log", "-w", "-t", String(timeout), "start"], "pg_ctl start", timeout: Double(timeout) + 60)
    }

    deinit { stop() }

    /// libpq connection string for `database`.
    public func conninfo(_ database: String = "postgres", user: String = "postgres") -> String {
        "host=\(dir) port=\(port) user='\(user.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'"))' dbname='\(database.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'"))'"
    }

    public func stop(mode: ShutdownMode = .immediate) {
        guard running else { return }
        running = false
        _ = try? run([bin + "/pg_ctl", "-D", data, "-m", mode.rawValue, "-w", "stop"], "pg_ctl stop")
    }

    private func run(_ argv: [String], _ what: String, timeout: Double = 300) throws {
        let full = runAs.map { ["/usr/sbin/runuser", "-u", $0, "--"] + argv } ?? argv
        let r = try ChildRunner.run(full, purpose: .postgres, cwd: dir, timeout: timeout)
        guard r.status == 0 else {
            let log = FileManager.default.contents(atPath: dir + "/server.log").map { String(String(decoding: $0, as: UTF8.self).suffix(400)).split(whereSeparator: \.isNewline).joined(separator: " | ") } ?? ""
            throw OpsError.failed("\(what) failed (exit \(r.status)): \(r.lastErrorLine)\(log.isEmpty ? "" : " — server log: \(log)")")
        }
    }
}

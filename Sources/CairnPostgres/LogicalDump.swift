import CairnEngine
import CairnRepository
import CairnFormat
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `cairn pg dump` and `cairn pg restore-dump`: `pg_dump -Fc -Z0`
/// (uncompressed, so the store dedups and compresses) streamed into a
/// snapshot, and a dump snapshot streamed into `pg_restore`. A dump whose
/// `pg_dump` fails leaves no snapshot: the commit waits for its exit status.
public struct LogicalDump {
    public enum Key {
        public static let kind = Snapshot.ExtraKey.pgKind.rawValue   // Snapshot.PGKind.dump
        public static let database = Snapshot.ExtraKey.pgDatabase.rawValue
        public static let serverVersion = "pg-server-version"
        public static let seconds = "pg-dump-seconds"
    }

    public let repo: Repository
    public init(repo: Repository) { self.repo = repo }

    /// Dumps the database `conninfo` names into a snapshot called `name`, recording `tags`.
    public func dump(name: String, conninfo: String, arguments: [String], tags: [String] = [],
                     progress: WorkProgress = WorkProgress()) async throws -> BackupResult {
        let settings = try ConnectionSettings(conninfo)
        // Connect first: a bad connection string fails here, with libpq's message, before anything is stored.
        let conn = try PGConnection(conninfo)
        let version = conn.serverVersion
        let database = try conn.value("SELECT current_database()")
        let child = try ChildProcess("pg_dump", arguments: ["-Fc", "-Z0", "--no-password"] + arguments + [],
                                     environment: settings.environment.merging(["PGDATABASE": database]) { $1 }, stdin: false, stdout: true)
        let started = Clock.monotonic()
        try child.start()
        var options = BackupOptions(name: name)
        options.profile = ChunkerProfileName.dump
        options.tags = tags
        options.extra = [Key.kind: Snapshot.PGKind.dump, Key.database: database, Key.serverVersion: String(version)]
        options.beforeCommit = {
            try await child.check()
            return BackupAdditions(extra: [Key.seconds: String(format: "%.3f", Clock.monotonic() - started)])
        }
        let fd = child.stdoutPipe.fileHandleForReading.fileDescriptor
        do {
            return try await Archiver(repo: repo, options: options, progress: progress).backup(streamFD: fd, label: "pg_dump \(database)")
        } catch {
            // pg_dump may still be writing: let it see a closed pipe, and prefer its own message.
            try? child.stdoutPipe.fileHandleForReading.close()
            let status = await child.wait()
            if status != 0, !(error is PostgresError) {
                throw PostgresError.childFailed(program: "pg_dump", status: status, stderr: child.standardError)
            }
            throw error
        }
    }

    /// Streams a dump snapshot into `pg_restore` connected to `conninfo`.
    public func restore(snapshot: SnapshotRecord, conninfo: String, create: Bool, arguments: [String]) async throws -> UInt64 {
        guard snapshot.snapshot.extra[Key.kind] == Snapshot.PGKind.dump || snapshot.snapshot.sourceKind == .stream else {
            throw PostgresError.other("snapshot \(snapshot.id.prefix(8)) is not a pg dump")
        }
        let settings = try ConnectionSettings(conninfo)
        guard let db = settings.values["dbname"], !db.isEmpty else {
            throw PostgresError.connection("--dbname needs a database (dbname=...): pg_restore connects to it\(create ? " to issue CREATE DATABASE" : "")")
        }
        signal(SIGPIPE, SIG_IGN)
        var env = settings.environment
        env.removeValue(forKey: "PGDATABASE")
        let child = try ChildProcess("pg_restore", arguments: ["--no-password", "--exit-on-error", "-d", db] + (create ? ["--create"] : []) + arguments,
                                     environment: env, stdin: true, stdout: false)
        try child.start()
        let writeEnd = child.stdinPipe.fileHandleForWriting
        let written: UInt64
        do {
            written = try await Restorer(repo: repo, snapshot: snapshot).restoreSingleFile(to: writeEnd.fileDescriptor)
            try writeEnd.close()
        } catch {
            try? writeEnd.close()
            let status = await child.wait()
            if status != 0 { throw PostgresError.childFailed(program: "pg_restore", status: status, stderr: child.standardError) }
            throw error
        }
        try await child.check()
        return written
    }
}

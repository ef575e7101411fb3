import CairnEngine
import CairnRepository
import CairnFormat
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `cairn pg basebackup --stream`: for a server whose data directory is not
/// readable here. Runs `pg_basebackup -D - -Ft -X none -c fast` (connection
/// settings in its environment, never on its command line) and stores its
/// tar stream as a stream snapshot with the same `extra` facts as a local
/// base backup, taken from the stream itself (`backup_label`, and the
/// `WAL-Ranges` of `backup_manifest` for the stop LSN). With `-X none` the
/// server waits until the WAL the backup needs is archived. The snapshot is
/// committed only after `pg_basebackup` exited 0 and the tar stream was
/// complete. `cairn pg restore` unpacks it into PGDATA.
public struct StreamedBaseBackup {
    /// The repository, the snapshot's name and tags, the WAL archive's name, the label and the archive wait.
    public var settings: BaseBackupSettings

    public init(_ settings: BaseBackupSettings) { self.settings = settings }

    public func run(conninfo: String, progress: WorkProgress = WorkProgress()) async throws -> BackupResult {
        let connection = try ConnectionSettings(conninfo)
        // Connect first: a bad connection string fails with libpq's message before anything runs.
        let conn = try PGConnection(conninfo)
        let version = conn.serverVersion
        guard version >= 120000 else { throw PostgresError.unsupportedServer(version) }
        let systemID = try conn.value("SELECT system_identifier::text FROM pg_control_system()")
        let archiveMode = try conn.value("SHOW archive_mode")
        guard archiveMode != "off" else {
            throw PostgresError.other("archive_mode is off: a base backup cannot be restored without the WAL written during it; set archive_mode = on and archive_command = 'cairn wal-push %p' (Docs/postgres.md)")
        }
        let segmentSize = try conn.value("SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'")
        signal(SIGPIPE, SIG_IGN)
        var env = connection.environment
        env["LC_MESSAGES"] = "C"
        let child = try ChildProcess("pg_basebackup", arguments: ["-D", "-", "-Ft", "-X", "none", "-c", "fast", "--no-password", "-l", settings.label],
                                     environment: env, stdin: false, stdout: true)
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw PostgresError.other("cannot create a pipe: \(String(cString: strerror(errno)))") }
        let startNanos = Clock.nowNanos()
        do { try child.start() } catch { close(fds[0]); close(fds[1]); throw error }
        // The tee owns a duplicate of pg_basebackup's stdout; the pipe's own handle is closed once the tee is done.
        let childOut = child.stdoutPipe.fileHandleForReading
        let input = dup(childOut.fileDescriptor)
        guard input >= 0 else {
            close(fds[0]); close(fds[1]); try? childOut.close(); _ = await child.wait()
            throw PostgresError.other("cannot duplicate a descriptor: \(String(cString: strerror(errno)))")
        }
        let tee = BaseBackupTarTee(input: input, output: fds[1])
        tee.start()

        var options = BackupOptions(name: settings.name)
        options.profile = ChunkerProfileName.file
        options.tags = settings.tags
        options.extra = [BaseBackup.Key.kind: Snapshot.PGKind.base, BaseBackup.Key.format: "tar", BaseBackup.Key.systemID: systemID,
                         BaseBackup.Key.serverVersion: String(version), BaseBackup.Key.walName: settings.walName,
                         BaseBackup.Key.segmentSize: segmentSize, BaseBackup.Key.startTime: String(startNanos)]
        let archiveTimeout = settings.archiveTimeout
        options.beforeCommit = {
            // With -X none the server waits, without a time limit, until the backup's WAL is archived.
            guard let status = await child.wait(timeout: archiveTimeout) else {
                let why = (try? conn.query("SELECT last_archived_wal, failed_count::text, last_failed_wal FROM pg_stat_archiver").first)
                    .map { r in "pg_stat_archiver: last archived \((r.first ?? nil) ?? "none"), \((r.count > 1 ? r[1] : nil) ?? "?") failed attempt(s)\((r.count > 2 ? r[2] : nil).map { ", the last for \($0)" } ?? "")" } ?? "pg_stat_archiver unreadable"
                throw PostgresError.other("pg_basebackup waited \(Int(archiveTimeout)) s for the server to archive the backup's WAL (\(why)); the backup was not recorded. Fix archive_command (the server log has cairn wal-push's message; a repository shared with the postgres user needs group access, Docs/postgres.md), then run the base backup again; --archive-timeout changes the wait")
            }
            guard status == 0 else { throw PostgresError.childFailed(program: "pg_basebackup", status: status, stderr: child.standardError) }
            let f = await tee.findings()
            if let e = f.error { throw e }
            return BackupAdditions(extra: try Self.facts(f, systemID: systemID, conn: conn))
        }
        do {
            let r = try await Archiver(repo: settings.repo, options: options, progress: progress).backup(streamFD: fds[0], label: "pg_basebackup")
            close(fds[0])
            try? childOut.close()
            return r
        } catch {
            close(fds[0])  // the tee stops; then pg_basebackup sees a closed pipe
            _ = await tee.findings()
            try? childOut.close()
            let status = await child.wait()
            if status != 0, !(error is PostgresError) {
                throw PostgresError.childFailed(program: "pg_basebackup", status: status, stderr: child.standardError)
            }
            throw error
        }
    }

    /// The snapshot's facts from what the stream held.
    static func facts(_ f: BaseBackupTarTee.Findings, systemID: String, conn: PGConnection) throws -> [String: String] {
        guard let labelBytes = f.backupLabel else {
            throw PostgresError.other("pg_basebackup's output holds no backup_label: is it a base backup of the data directory?")
        }
        guard f.tablespaceMapSize == 0 else {
            throw PostgresError.other("the cluster has tablespaces outside the data directory, which this version of cairn does not back up; use 'pg_basebackup' for now (Docs/postgres.md)")
        }
        if f.controlPrefix.count == 8 {
            let local = (0..<8).reduce(UInt64(0)) { $0 | UInt64(f.controlPrefix[$1]) << (8 * $1) }
            guard String(local) == systemID else {
                throw PostgresError.other("the streamed data directory belongs to system \(local), but the server reports system \(systemID)")
            }
        }
        let parsed = try BackupLabel(parsing: String(decoding: labelBytes, as: UTF8.self))
        // The stop position: backup_manifest's last WAL range (PostgreSQL 13+), else the server's current insert position (later, so safe).
        var stop = manifestStopLSN(f.manifestTail)
        if stop == nil { stop = LSN(try conn.value("SELECT pg_current_wal_lsn()::text")) }
        guard let stop, stop >= parsed.startLSN else {
            throw PostgresError.other("cannot tell where the streamed base backup ended (no WAL-Ranges in backup_manifest)")
        }
        return [BaseBackup.Key.timeline: String(parsed.timeline), BaseBackup.Key.startLSN: parsed.startLSN.description,
                BaseBackup.Key.stopLSN: stop.description, BaseBackup.Key.startWALFile: parsed.startWALFile,
                BaseBackup.Key.stopTime: String(Clock.nowNanos())]
    }

    /// The `End-LSN` of the last entry of `WAL-Ranges` in the end of a backup manifest.
    static func manifestStopLSN(_ tail: [UInt8]) -> LSN? {
        let text = String(decoding: tail, as: UTF8.self)
        guard let ranges = text.range(of: "\"WAL-Ranges\"", options: .backwards) else { return nil }
        let rest = text[ranges.upperBound...]
        guard let key = rest.range(of: "\"End-LSN\"", options: .backwards) else { return nil }
        let after = rest[key.upperBound...].drop { $0 == " " || $0 == ":" }
        guard after.first == "\"" else { return nil }
        return LSN(String(after.dropFirst().prefix { $0 != "\"" }))
    }
}

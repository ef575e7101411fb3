import ArgumentParser
import CairnEngine
import CairnPostgres
import Foundation

struct PgBaseBackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "basebackup",
        abstract: "Take a physical base backup (pg_backup_start, the data directory, pg_backup_stop) for point-in-time restore.")

    @OptionGroup var pg: PgOptions
    @OptionGroup var options: RepositoryOptions
    @OptionGroup var lockOptions: LockOptions

    @Option(help: "Snapshot name.")
    var name = "pg-base"

    @Option(help: "libpq connection string or URI of a superuser (or pg_backup role), without a password.")
    var dbname = ""

    @Option(help: "The data directory, when the server's data_directory is not the path here.")
    var pgdata: String?

    @Option(name: .customLong("tag"), help: "A tag to record (repeatable).")
    var tags: [String] = []

    @Flag(help: "Stream with 'pg_basebackup -D - -Ft -X none' (a replication connection) instead of reading the data directory: for a server whose data directory is not local.")
    var stream = false

    @Option(help: "How long to wait, once the data is stored, for PostgreSQL to archive the WAL the backup needs (e.g. 10m; 0: do not wait). The backup fails, unrecorded, when archiving does not catch up in time.")
    var archiveTimeout = "10m"

    func validate() throws {
        try SnapshotNameArgument.validate(name)
        if tags.contains(where: { $0.isEmpty }) { throw ValidationError("--tag is empty") }
        if stream && pgdata != nil { throw ValidationError("--stream reads the data directory through the server: drop --pgdata") }
        if LockOptions.parse(archiveTimeout) == nil { throw ValidationError("--archive-timeout \(archiveTimeout.debugDescription) is not a duration like 10m") }
    }

    func run() async throws {
        try pg.apply()
        let (repo, lock) = try await options.openLocked(exclusive: false, operation: "pg basebackup", wait: lockOptions.seconds)
        let walName = pg.resolvedWALName
        var settings = BaseBackupSettings(repo: repo, name: name, walName: walName)
        settings.archiveTimeout = LockOptions.parse(archiveTimeout) ?? 600
        settings.tags = tags
        let backup = BaseBackup(settings), streamed = StreamedBaseBackup(settings)
        let archiver = WorkProgress()
        let r: BackupResult = try await ProgressLine.showing(archiver, verb: "base backup", enabled: options.showProgress) {
            try await lock.holding {
                stream ? try await streamed.run(conninfo: dbname, progress: archiver)
                       : try await backup.run(conninfo: dbname, dataDirectory: pgdata, progress: archiver)
            }
        }
        for w in r.warnings { Terminal.warn(w) }
        let e = r.snapshot.extra
        if options.json {
            Terminal.json(PgBaseBackupJSON(snapshot_id: r.snapshotID, name: name, system_id: e[BaseBackup.Key.systemID] ?? "",
                                           timeline: e[BaseBackup.Key.timeline] ?? "", start_lsn: e[BaseBackup.Key.startLSN] ?? "",
                                           stop_lsn: e[BaseBackup.Key.stopLSN] ?? "", logical_bytes: r.snapshot.logicalBytes,
                                           new_bytes: r.newBytes, unchanged_files: r.unchangedFiles, seconds: r.seconds))
        } else {
            Terminal.out("base backup \(r.snapshotID.prefix(8)) saved: system \(e[BaseBackup.Key.systemID] ?? "?"), timeline \(e[BaseBackup.Key.timeline] ?? "?"), WAL \(e[BaseBackup.Key.startLSN] ?? "?") – \(e[BaseBackup.Key.stopLSN] ?? "?"), \(Terminal.bytes(r.snapshot.logicalBytes)) logical, \(Terminal.bytes(r.newBytes)) new, \(r.unchangedFiles) files unchanged, \(String(format: "%.2f", r.seconds)) s")
        }
    }
}

struct PgBaseBackupJSON: Encodable {
    let snapshot_id: String, name: String, system_id: String, timeline: String, start_lsn: String, stop_lsn: String
    let logical_bytes: UInt64, new_bytes: UInt64, unchanged_files: UInt64, seconds: Double
}

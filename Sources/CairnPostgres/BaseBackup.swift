import CairnEngine
import CairnRepository
import CairnFormat
import CairnSystem
#if canImport(Glibc)
import Glibc
#endif

/// A physical base backup through libpq: `pg_backup_start` (or
/// `pg_start_backup` before 15) on one connection, the data directory through
/// the tree archiver (so unchanged relation files are not re-read and chunks
/// dedup against earlier backups), then `pg_backup_stop(wait_for_archive =>
/// false)` on the same connection and a bounded wait for the archiver to
/// reach the backup's last segment (`ArchiveWait`: PostgreSQL's own wait
/// never ends when archiving fails); its `backup_label` and `tablespace_map` go
/// into the snapshot's data directory byte for byte. The snapshot is
/// committed only after the stop succeeded and its WAL was archived.
public struct BaseBackup {
    /// The `extra` keys of a base backup snapshot.
    public enum Key {
        public static let kind = Snapshot.ExtraKey.pgKind.rawValue   // Snapshot.PGKind.base
        public static let systemID = Snapshot.ExtraKey.pgSystemID.rawValue
        public static let timeline = "pg-timeline"
        public static let startLSN = "pg-start-lsn"
        public static let stopLSN = "pg-stop-lsn"
        public static let startWALFile = "pg-start-wal-file"
        public static let startTime = "pg-start-time"   // ns since the epoch
        public static let stopTime = "pg-stop-time"
        public static let serverVersion = "pg-server-version"
        public static let walName = "pg-wal-name"
        public static let segmentSize = "pg-wal-segment-size"
        public static let dataDirectory = "pg-data-directory"
        /// "tar" for a streamed base backup (one tar stream); absent for a data directory tree.
        public static let format = "pg-format"
    }

    /// The repository, the snapshot's name and tags, the WAL archive's name, the label and the archive wait.
    public var settings: BaseBackupSettings

    public init(_ settings: BaseBackupSettings) { self.settings = settings }

    /// Takes the backup. `dataDirectory` overrides the server's `data_directory`.
    public func run(conninfo: String, dataDirectory: String? = nil, progress: WorkProgress = WorkProgress()) async throws -> BackupResult {
        let conn = try PGConnection(conninfo)
        let version = conn.serverVersion
        guard version >= 120000 else { throw PostgresError.unsupportedServer(version) }
        let pgdata = try dataDirectory ?? conn.value("SHOW data_directory")
        let systemID = try conn.value("SELECT system_identifier::text FROM pg_control_system()")
        guard let local = Self.localSystemID(pgdata) else {
            throw PostgresError.pgdata("the data directory \(pgdata) is not readable here (global/pg_control): run on the database host as its owner or root, or give --pgdata")
        }
        guard String(local) == systemID else {
            throw PostgresError.pgdata("\(pgdata) belongs to system \(local), but the server is system \(systemID): give the server's own data directory")
        }
        let archiveMode = try conn.value("SHOW archive_mode")
        guard archiveMode != "off" else {
            throw PostgresError.other("archive_mode is off: a base backup cannot be restored without the WAL written during it; set archive_mode = on and archive_command = 'cairn wal-push %p' (Docs/postgres.md)")
        }
        let segmentSize = try conn.value("SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'")
        let startNanos = Clock.nowNanos()
        if version >= 150000 {
            try conn.query("SELECT pg_backup_start($1, true)", [settings.label])
        } else {
            try conn.query("SELECT pg_start_backup($1, true, false)", [settings.label])
        }
        var options = BackupOptions(name: settings.name)
        options.profile = ChunkerProfileName.file
        options.tags = settings.tags
        options.fullPaths = false   // the data directory at the root: restored into any PGDATA
        options.exclude = { PGDataExclusions.excludes($0, isDirectory: $1) }
        options.extra = [Key.kind: Snapshot.PGKind.base, Key.systemID: systemID, Key.serverVersion: String(version), Key.walName: settings.walName,
                         Key.segmentSize: segmentSize, Key.dataDirectory: pgdata, Key.startTime: String(startNanos)]
        let archiveTimeout = settings.archiveTimeout
        options.beforeCommit = {
            // Same connection: the backup started there. No wait inside the server (it has no
            // time limit): ArchiveWait below waits for the last segment, boundedly.
            let rows = version >= 150000
                ? try conn.query("SELECT lsn::text, labelfile, spcmapfile FROM pg_backup_stop(false)")
                : try conn.query("SELECT lsn::text, labelfile, spcmapfile FROM pg_stop_backup(false, false)")
            guard let row = rows.first, row.count == 3, let stop = row[0], let labelText = row[1] else {
                throw PostgresError.other("pg_backup_stop returned no backup label")
            }
            let map = row[2] ?? ""
            guard map.isEmpty else {
                throw PostgresError.other("the cluster has tablespaces outside the data directory, which this version of cairn does not back up; use 'pg_basebackup' for now (Docs/postgres.md)")
            }
            let parsed = try BackupLabel(parsing: labelText)
            if let stopLSN = LSN(stop), let size = UInt64(segmentSize), size > 0 {
                let last = ArchiveWait.lastSegment(stop: stopLSN, timeline: parsed.timeline, segmentSize: size)
                // pg_backup_stop switched to a new segment, so this one is complete and queued for archiving.
                try await ArchiveWait(conn: conn, timeout: archiveTimeout).run(segment: last)
            }
            let extra = [Key.timeline: String(parsed.timeline), Key.startLSN: parsed.startLSN.description, Key.stopLSN: stop,
                         Key.startWALFile: parsed.startWALFile, Key.stopTime: String(Clock.nowNanos())]
            return BackupAdditions(extra: extra, files: [BackupAdditions.File(name: "backup_label", bytes: Array(labelText.utf8))])
        }
        let archiver = Archiver(repo: settings.repo, options: options, progress: progress)
        return try await archiver.backup(paths: [pgdata])
    }

    /// The system identifier in `global/pg_control` (its first 8 bytes, little-endian).
    static func localSystemID(_ pgdata: String) -> UInt64? {
        let fd = open(pgdata + "/global/pg_control", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var b = [UInt8](repeating: 0, count: 8)
        guard (try? b.withUnsafeMutableBytes({ try FileDescriptorIO.readFull(fd, into: $0) })) == 8 else { return nil }
        return (0..<8).reduce(UInt64(0)) { $0 | UInt64(b[$1]) << (8 * $1) }
    }
}

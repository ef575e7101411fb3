/// What a base backup leaves out of the data directory: what PostgreSQL's own
/// `pg_basebackup` leaves out (`basebackup.c`, and "Backing Up the Data
/// Directory" in the manual). Directories whose contents are excluded are
/// kept empty, so a restored cluster finds them.
public enum PGDataExclusions {
    /// Directories kept, their contents left out (recreated or refilled by the server).
    public static let emptiedDirectories: Set<String> = [
        "pg_wal", "pg_dynshmem", "pg_notify", "pg_replslot", "pg_serial", "pg_snapshots", "pg_stat_tmp", "pg_subtrans",
    ]

    /// Files left out at the top of the data directory.
    public static let topLevelFiles: Set<String> = [
        "postmaster.pid", "postmaster.opts", "backup_label", "backup_label.old", "tablespace_map", "tablespace_map.old",
        "backup_manifest", "postgresql.auto.conf.tmp", "current_logfiles.tmp", "recovery.signal", "standby.signal",
    ]

    /// True when `relativePath` (below the data directory) stays out of the backup.
    public static func excludes(_ relativePath: String, isDirectory: Bool) -> Bool {
        let parts = relativePath.split(separator: "/").map(String.init)
        guard let base = parts.last else { return false }
        if parts.count == 1 { return !isDirectory && topLevelFiles.contains(base) }
        if base == "pg_internal.init" || base.hasPrefix("pgsql_tmp") { return true }
        if emptiedDirectories.contains(parts[0]) {
            // pg_wal/archive_status is kept (empty): a restored server expects it.
            return !(parts.count == 2 && parts[0] == "pg_wal" && parts[1] == "archive_status" && isDirectory)
        }
        return false
    }
}

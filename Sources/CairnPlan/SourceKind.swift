/// What a source backs up, and so which `cairn` command `cairn run` uses.
public enum SourceKind: String, Sendable, CaseIterable {
    /// `cairn pg dump`: a logical `pg_dump -Fc -Z0` stream.
    case pgDump = "pg-dump"
    /// `cairn pg basebackup`: a physical base backup for point-in-time recovery.
    case pgBaseBackup = "pg-basebackup"
    /// The WAL archive PostgreSQL's `archive_command` (`cairn wal-push`) fills; `cairn run` only watches it.
    case pgWAL = "pg-wal"
    /// `cairn redis backup`: an RDB from a live server (or an RDB file).
    case redis
    /// `cairn backup PATH...`: files and directory trees.
    case tree
    /// `cairn backup --stdin-from-command`: the standard output of a command.
    case command

    public static var names: String { allCases.map(\.rawValue).joined(separator: " | ") }
}

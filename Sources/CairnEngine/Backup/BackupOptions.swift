import CairnFormat

/// What a backup records and how it reads.
public struct BackupOptions: Sendable {
    public var name: String
    public var tags: [String] = []
    public var host: String? = nil
    /// Recorded time (nanoseconds since the epoch); now when nil.
    public var timeNanos: Int64? = nil
    /// Re-read files even when their stat data matches the previous snapshot.
    public var forceRead = false
    /// Chunker profile; "file" for trees and "dump" for streams when nil.
    public var profile: String? = nil
    /// Store changed chunks as deltas against similar stored chunks. Nil: on
    /// for the `dump` and `rdb` profiles (scattered changes), off otherwise.
    public var delta: Bool? = nil
    /// zstd level for new blobs (0 = store raw); the repository default when nil.
    public var compressionLevel: Int32? = nil
    /// Facts a source wants recorded in the snapshot.
    public var extra: [String: String] = [:]
    /// Leaves entries out of a tree backup: called with the path below the
    /// argument ("pg_wal/000000010000000000000001") and whether it is a
    /// directory; true skips the entry (and everything below a directory).
    public var exclude: (@Sendable (_ relativePath: String, _ isDirectory: Bool) -> Bool)? = nil
    /// Record each argument at its absolute path, as restic does: `/home/a/conf`
    /// is the root's `home`, holding `a`, holding `conf` (with the metadata of
    /// the directories on the way). Off: each argument is an entry of the root
    /// named by its last component, the layout of snapshots made before, kept
    /// for PostgreSQL base backups (one data directory, restored into any PGDATA).
    public var fullPaths = true
    /// Do not descend into directories on another file system than the argument's.
    public var oneFileSystem = false
    /// Leave out directories holding a CACHEDIR.TAG with the standard signature.
    public var excludeCaches = false
    /// Leave out regular files larger than this many bytes (below the arguments).
    public var excludeLargerThan: UInt64? = nil
    /// Runs once everything was read, before the snapshot is committed
    /// (PostgreSQL's `pg_backup_stop`, a `pg_dump` exit status). Throwing
    /// abandons the backup: no snapshot is committed. Its `extra` is merged into
    /// the snapshot's; its `files` are added to the directory of a one-directory
    /// backup, byte for byte.
    public var beforeCommit: (@Sendable () async throws -> BackupAdditions)? = nil

    public init(name: String) { self.name = name }
}

/// What a `BackupOptions.beforeCommit` hook adds to the snapshot.
public struct BackupAdditions: Sendable {
    /// A file added to the backed-up directory.
    public struct File: Sendable {
        public var name: String
        public var bytes: [UInt8]
        public init(name: String, bytes: [UInt8]) { self.name = name; self.bytes = bytes }
    }
    public var extra: [String: String]
    public var files: [File]
    public init(extra: [String: String] = [:], files: [File] = []) { self.extra = extra; self.files = files }
}

/// The outcome of a backup.
public struct BackupResult: Sendable {
    public var snapshotID: String
    public var snapshot: Snapshot
    /// Plaintext bytes of chunks new to the repository.
    public var newBytes: UInt64
    /// Bytes of packs written (compressed, encrypted, with headers).
    public var storedBytes: UInt64
    public var seconds: Double
    /// Files that were skipped because they could not be read.
    public var warnings: [String]
    /// Files taken from the previous snapshot without reading.
    public var unchangedFiles: UInt64
    /// Files whose size or mtime changed while they were read (also in `warnings`; the CLI exits 3).
    public var changedDuringBackup: [String] = []
}

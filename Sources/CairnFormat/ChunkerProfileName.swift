/// The names of the default chunker profiles (`RepositoryConfig.defaultProfiles`,
/// chosen in Docs/chunking.md), so that code names a profile by a constant, not
/// a literal. A repository may hold other names; profile names stay strings in
/// the config and in a snapshot's `chunker-profile` (format-spec §3, §13).
public enum ChunkerProfileName {
    /// Logical dumps and other streams (the default for `backup --stdin`).
    public static let dump = "dump"
    /// Redis RDB files.
    public static let rdb = "rdb"
    /// PostgreSQL WAL files.
    public static let wal = "wal"
    /// Files of a tree backup (the default for paths).
    public static let file = "file"
}

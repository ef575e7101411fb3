extension Snapshot {
    /// The name of a fact in a snapshot's `extra` (format-spec §13). Each source declares its keys as
    /// constants of this type next to the code that writes them (`SnapshotFacts`, CairnPostgres, CairnRedis,
    /// CairnOps); the bytes stored are the raw value, so a typed key changes nothing on disk.
    public struct ExtraKey: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String

        public init(rawValue: String) { self.rawValue = rawValue }
        public init(_ rawValue: String) { self.rawValue = rawValue }

        public var description: String { rawValue }

        // PostgreSQL's keys that readers outside CairnPostgres select by (format-spec §13).
        /// The kind of a PostgreSQL snapshot for the operator: `base` or `dump`.
        public static let pgKind = ExtraKey("pg-kind")
        /// The database a logical dump holds.
        public static let pgDatabase = ExtraKey("pg-database")
        /// The name of an archived WAL file; a snapshot with it (and `pgWALSHA256`) is one WAL file.
        public static let pgWALFile = ExtraKey("pg-wal-file")
        /// Hex SHA-256 of an archived WAL file's content.
        public static let pgWALSHA256 = ExtraKey("pg-wal-sha256")
        /// Bytes of an archived WAL file.
        public static let pgWALSize = ExtraKey("pg-wal-size")
        /// The cluster's system identifier.
        public static let pgSystemID = ExtraKey("pg-system-id")
    }

    /// The values of `ExtraKey.pgKind` (format-spec §13).
    public enum PGKind {
        /// A physical base backup of a cluster (its data directory as a tar stream or tree).
        public static let base = "base"
        /// A logical dump of one database (`pg_dump` custom format).
        public static let dump = "dump"
    }
}

extension Dictionary where Key == String, Value == String {
    /// The value of a typed snapshot-extra key (the dictionary is a snapshot's `extra`).
    public subscript(key: Snapshot.ExtraKey) -> String? {
        get { self[key.rawValue] }
        set { self[key.rawValue] = newValue }
    }

    /// A snapshot's `extra` from typed keys (a key given twice keeps its last value).
    public init(extra pairs: KeyValuePairs<Snapshot.ExtraKey, String>) {
        self.init()
        for (k, v) in pairs { self[k.rawValue] = v }
    }
}

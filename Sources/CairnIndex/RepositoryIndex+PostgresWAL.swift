/// One archived PostgreSQL WAL file as the cache catalogues it: which
/// snapshot holds it, its name and content hash. Rebuilt from the snapshots
/// themselves whenever in doubt, so it is a cache like every other table.
public struct WALCatalogRow: Sendable, Hashable {
    public var snapshotID: String
    /// The WAL file name PostgreSQL gave (`000000010000000000000003`, `00000002.history`, ...);
    /// empty for a snapshot of the WAL name that is not a WAL file.
    public var file: String
    public var sha256: String
    public var size: Int64
    /// When it was archived (the snapshot time), nanoseconds since the epoch.
    public var timeNanos: Int64
    public var systemID: String

    public init(snapshotID: String, file: String, sha256: String, size: Int64, timeNanos: Int64, systemID: String) {
        self.snapshotID = snapshotID; self.file = file; self.sha256 = sha256; self.size = size
        self.timeNanos = timeNanos; self.systemID = systemID
    }
}

extension RepositoryIndex {
    private static let walSchema = """
        CREATE TABLE IF NOT EXISTS pg_wal(snapshot_id TEXT PRIMARY KEY, name TEXT NOT NULL, file TEXT NOT NULL,
            sha256 TEXT NOT NULL, size INTEGER NOT NULL, time INTEGER NOT NULL, system_id TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS pg_wal_file ON pg_wal(name, file);
        CREATE TABLE IF NOT EXISTS pg_wal_mark(name TEXT PRIMARY KEY, rowid_seen INTEGER NOT NULL);
        CREATE INDEX IF NOT EXISTS snapshots_name ON snapshots(name);
        """

    /// Brings the WAL catalogue of snapshot name `name` up to date with the
    /// cached snapshots and returns it. Only snapshots added since the last
    /// call are decoded (`decode` turns a snapshot's plaintext into a row);
    /// when snapshots were removed (forget) or the cache was rebuilt, the
    /// catalogue of that name is rebuilt from all of them. With `file`, only
    /// the rows of that WAL file name are returned (an indexed lookup).
    public func walCatalog(name: String, file: String? = nil, decode: (_ id: String, _ plaintext: [UInt8]) -> WALCatalogRow?) throws -> [WALCatalogRow] {
        try withDatabase { d in
            try d.execute(Self.walSchema)
            return try d.transaction {
                let maxRow = try d.statement("SELECT coalesce(max(rowid),0) FROM snapshots")
                _ = try maxRow.step()
                let newest = maxRow.int(0)
                let markStmt = try d.statement("SELECT rowid_seen FROM pg_wal_mark WHERE name=?").bind(1, name)
                var mark: Int64 = try markStmt.step() ? markStmt.int(0) : 0
                if mark > newest { mark = 0 }
                if mark == 0 { try d.statement("DELETE FROM pg_wal WHERE name=?").bind(1, name).run() }
                try Self.catalogue(d, name: name, after: mark, decode: decode)
                // Snapshots removed, or rows missed: rebuild this name's catalogue from scratch.
                let have = try d.statement("SELECT count(*) FROM pg_wal WHERE name=?").bind(1, name)
                _ = try have.step()
                let want = try d.statement("SELECT count(*) FROM snapshots WHERE name=?").bind(1, name)
                _ = try want.step()
                if have.int(0) != want.int(0) {
                    try d.statement("DELETE FROM pg_wal WHERE name=?").bind(1, name).run()
                    try Self.catalogue(d, name: name, after: 0, decode: decode)
                }
                try d.statement("INSERT OR REPLACE INTO pg_wal_mark(name, rowid_seen) VALUES(?,?)").bind(1, name).bind(2, newest).run()
                let rows = try d.statement("SELECT snapshot_id, file, sha256, size, time, system_id FROM pg_wal WHERE name=? AND file<>''"
                                           + (file == nil ? "" : " AND file=?") + " ORDER BY file, time").bind(1, name)
                if let file { rows.bind(2, file) }
                var out: [WALCatalogRow] = []
                while try rows.step() {
                    out.append(WALCatalogRow(snapshotID: rows.text(0), file: rows.text(1), sha256: rows.text(2), size: rows.int(3),
                                             timeNanos: rows.int(4), systemID: rows.text(5)))
                }
                return out
            }
        }
    }

    private static func catalogue(_ d: SQLiteDatabase, name: String, after mark: Int64,
                                  decode: (String, [UInt8]) -> WALCatalogRow?) throws {
        let s = try d.statement("SELECT id, data FROM snapshots WHERE name=? AND rowid>?").bind(1, name).bind(2, mark)
        var found: [WALCatalogRow] = []
        while try s.step() {
            let id = s.text(0)
            found.append(decode(id, s.blob(1)) ?? WALCatalogRow(snapshotID: id, file: "", sha256: "", size: 0, timeNanos: 0, systemID: ""))
        }
        for r in found {
            try d.statement("INSERT OR REPLACE INTO pg_wal(snapshot_id,name,file,sha256,size,time,system_id) VALUES(?,?,?,?,?,?,?)")
                .bind(1, r.snapshotID).bind(2, name).bind(3, r.file).bind(4, r.sha256).bind(5, r.size).bind(6, r.timeNanos).bind(7, r.systemID).run()
        }
    }
}

extension RepositoryIndex {
    /// The cached plaintext of one snapshot, by id (an indexed lookup).
    public func snapshotPlaintext(id: String) throws -> [UInt8]? {
        try withDatabase { d in
            let s = try d.statement("SELECT data FROM snapshots WHERE id=?").bind(1, id)
            return try s.step() ? s.blob(0) : nil
        }
    }
}

import CairnFormat
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Where a blob lives.
public struct BlobLocation: Hashable, Sendable {
    public var pack: PackID
    public var offset: UInt64
    public var length: UInt32
    public var rawLength: UInt32
    /// The base chunk of a delta-encoded blob.
    public var base: ChunkID?

    public init(pack: PackID, offset: UInt64, length: UInt32, rawLength: UInt32, base: ChunkID? = nil) {
        self.pack = pack; self.offset = offset; self.length = length; self.rawLength = rawLength; self.base = base
    }
}

/// Totals for `cairn stats`.
public struct IndexTotals: Sendable {
    public var blobCount: Int64 = 0
    public var dataBlobCount: Int64 = 0
    public var rawBytes: Int64 = 0
    public var storedBlobBytes: Int64 = 0
    /// Plaintext and stored bytes of data blobs alone (file and stream content, no trees or lists).
    public var dataRawBytes: Int64 = 0
    public var dataStoredBytes: Int64 = 0
    public var packCount: Int64 = 0
    public var packBytes: Int64 = 0
}

/// The SQLite index in the cache directory: blob locations, the snapshot
/// manifests and a cache of tree blobs. It is never the only copy of
/// anything: every row can be rebuilt from the store.
public final class RepositoryIndex: Sendable {
    private let db: Mutex<SQLiteDatabase>
    /// Extra connections for the per-chunk reads (`contains`, `lookup`,
    /// `similarChunk`), opened on demand: in WAL mode they read while the
    /// main connection commits a pack's rows, so the parallel hashing stage
    /// never waits behind a write transaction.
    private let readers = Mutex<[SQLiteDatabase]>([])
    public let path: String

    /// Schema version of the cache; a different one is discarded and rebuilt.
    /// 5: snapshot attributes (`snapshot_attributes`) instead of PostgreSQL's
    /// WAL columns and the `kind` column in `snapshots`.
    /// 6: attributes and object members name a snapshot by its row number
    /// (`sid`), not its id (a cold load writes each index in order).
    /// 7: `attribute_counts`; a schema-6 cache is upgraded in place (counted once).
    public static let schemaVersion = "7"

    public init(path: String) throws {
        self.path = path
        let d = try SQLiteDatabase(path: path)
        try d.execute("""
            PRAGMA journal_mode=WAL;
            PRAGMA synchronous=NORMAL;
            CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
            """)
        if try Self.table("index_objects", lacks: "size", in: d) { try d.execute("DROP TABLE index_objects") }
        // packs_unindexed: every sync asks for the packs no index object names yet (a few at
        // most); without it each asked scanned every pack row, a cost growing with the packs.
        try d.execute("""
            CREATE TABLE IF NOT EXISTS packs(pid INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE, type INTEGER NOT NULL,
                size INTEGER NOT NULL, indexed INTEGER NOT NULL, entries BLOB);
            CREATE TABLE IF NOT EXISTS blobs(id BLOB NOT NULL, type INTEGER NOT NULL, pid INTEGER NOT NULL,
                offset INTEGER NOT NULL, length INTEGER NOT NULL, raw_length INTEGER NOT NULL, base BLOB,
                PRIMARY KEY(id, type)) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS packs_unindexed ON packs(pid) WHERE indexed=0;
            CREATE TABLE IF NOT EXISTS index_objects(name TEXT PRIMARY KEY, size INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE IF NOT EXISTS index_members(object TEXT NOT NULL, pid INTEGER NOT NULL, PRIMARY KEY(object, pid)) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS index_members_pid ON index_members(pid);
            CREATE TABLE IF NOT EXISTS trees(id BLOB PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS features(sf INTEGER NOT NULL, id BLOB NOT NULL, PRIMARY KEY(sf, id)) WITHOUT ROWID;
            DROP TABLE IF EXISTS pg_wal; DROP TABLE IF EXISTS pg_wal_mark;
            """)
        // A cache of an older schema is emptied by `reset` when opened; tables that lack the
        // columns of this schema go first.
        for (table, column) in Self.snapshotTables where try Self.table(table, lacks: column, in: d) { try d.execute("DROP TABLE \(table)") }
        if try Self.table("forget_records", lacks: "size", in: d) { try d.execute("DROP TABLE forget_records; DROP TABLE IF EXISTS forgotten") }
        try d.execute(Self.snapshotSchema)
        try d.execute(Self.forgetSchema)
        db = Mutex(d)
    }

    /// Whether `table` exists without `column` (a cache of an older schema).
    private static func table(_ table: String, lacks column: String, in d: SQLiteDatabase) throws -> Bool {
        let s = try d.statement("SELECT count(*) FROM pragma_table_info(?) WHERE name=?").bind(1, table).bind(2, column)
        _ = try s.step()
        let hasColumn = s.int(0) > 0
        s.reset()
        let t = try d.statement("SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?").bind(1, table)
        _ = try t.step()
        let exists = t.int(0) > 0
        t.reset()
        return exists && !hasColumn
    }

    /// Deletes the database files (a damaged cache is rebuilt from the store).
    public static func destroy(path: String) {
        for suffix in ["", "-wal", "-shm", "-journal"] { unlink(path + suffix) }
    }

    private func with<R>(_ body: (SQLiteDatabase) throws -> R) throws -> R {
        try db.withLock { d in
            defer { d.endReads() }
            return try body(d)
        }
    }

    /// Serialised access for extensions in other files of this module.
    func withDatabase<R>(_ body: (SQLiteDatabase) throws -> R) throws -> R { try with(body) }

    /// A read-only use of a pooled reader connection (each caller gets its own).
    func withReader<R>(_ body: (SQLiteDatabase) throws -> R) throws -> R {
        let d = try readers.withLock { $0.popLast() } ?? SQLiteDatabase(path: path)
        defer {
            d.endReads()
            readers.withLock { $0.append(d) }
        }
        return try body(d)
    }

    // MARK: meta

    public func meta(_ key: String) throws -> String? {
        try with { d in
            let s = try d.statement("SELECT value FROM meta WHERE key=?").bind(1, key)
            return try s.step() ? s.text(0) : nil
        }
    }

    public func setMeta(_ key: String, _ value: String) throws {
        try with { d in try d.statement("INSERT OR REPLACE INTO meta(key,value) VALUES(?,?)").bind(1, key).bind(2, value).run() }
    }

    /// Empties every table (before a rebuild), in one transaction: a process
    /// killed half way must not leave `index_objects` saying what is loaded
    /// while the blob locations are gone.
    public func reset() throws {
        try with { d in
            try d.transaction { try Self.emptyTables(in: d) }
        }
    }

    private static func emptyTables(in d: SQLiteDatabase) throws {
        try withFastDelete(d) { try d.execute("DELETE FROM packs; DELETE FROM blobs; DELETE FROM index_objects; DELETE FROM index_members; DELETE FROM snapshots; DELETE FROM snapshot_attributes; DELETE FROM snapshot_objects; DELETE FROM snapshot_members; DELETE FROM trees; DELETE FROM features; DELETE FROM forget_records; DELETE FROM forgotten; DELETE FROM attribute_counts;") }
        try notePackDrops(in: d)
    }

    /// Runs `body`, bulk deletes inside the caller's transaction, with SQLite's `secure_delete`
    /// at FAST. Debian's SQLite defaults it to on: every page a delete frees is overwritten with
    /// zeros, so emptying a table wrote a WAL as large as the table (Docs/performance.md, "index
    /// rebuild at 100 M blobs"). At FAST a freed page goes to the freelist unwritten; its
    /// old bytes stay in the file until reused, as anything else the cache holds does (the
    /// cache is the repository's metadata in plaintext, and is reloaded with the same rows).
    static func withFastDelete<R>(_ d: SQLiteDatabase, _ body: () throws -> R) throws -> R {
        let mode = try d.statement("PRAGMA secure_delete")
        let previous = try mode.step() ? mode.int(0) : 1
        mode.reset()
        try d.execute("PRAGMA secure_delete=FAST")
        defer { try? d.execute("PRAGMA secure_delete=\(previous)") }
        return try body()
    }

    /// Empties every table and records `version` as the schema, unless the cache already says
    /// it is of `version`; returns whether it emptied them. The check and the reset are one
    /// transaction: processes opening one new cache at once empty it at most once, never
    /// after another has begun to fill it (a reset between another opener's check and its
    /// own took the rows of a load under way and of packs a running writer had yet to name).
    @discardableResult
    public func resetUnlessSchema(_ version: String) throws -> Bool {
        try with { d in
            try d.transaction {
                let s = try d.statement("SELECT value FROM meta WHERE key='schema'")
                let current = try s.step() ? s.text(0) : nil
                s.reset()
                guard current != version else { return false }
                if current == "6" && version == "7" {
                    try Self.recountAttributes(in: d)
                    try d.statement("INSERT OR REPLACE INTO meta(key,value) VALUES('schema',?)").bind(1, version).run()
                    return false
                }
                try Self.emptyTables(in: d)
                try d.statement("INSERT OR REPLACE INTO meta(key,value) VALUES('schema',?)").bind(1, version).run()
                return true
            }
        }
    }

    /// Why the cache cannot be in step with any store, if it cannot: every
    /// change to it is one transaction, but a cache written by an older
    /// version (whose rebuild was not) or damaged in a way SQLite does not
    /// notice can say index objects are loaded while the locations they
    /// gave are gone. Cheap: a few indexed lookups.
    public func inconsistency() throws -> String? {
        try with { d in
            let objects = try d.statement("SELECT count(*) FROM index_objects")
            _ = try objects.step()
            let loaded = objects.int(0)
            guard loaded > 0 else { return nil }
            let packs = try d.statement("SELECT EXISTS(SELECT 1 FROM packs WHERE indexed=1)")
            _ = try packs.step()
            if packs.int(0) == 0 { return "it has loaded \(loaded) index object(s) but holds no pack they name" }
            let blobs = try d.statement("SELECT EXISTS(SELECT 1 FROM blobs)")
            _ = try blobs.step()
            if blobs.int(0) == 0 { return "it has loaded \(loaded) index object(s) but holds no blob location" }
            return nil
        }
    }

    /// Connection settings while many objects load at once (a cold cache, a new machine's
    /// first open): SQLite checkpoints its write-ahead log every 16,384 pages instead of
    /// 1,000 and keeps up to 64 MiB of pages in memory. A cold load is one transaction per
    /// store object and per bucket of index entries, which rewrite the same pages many times:
    /// with the defaults each page went to the database file again at every checkpoint (a
    /// write and two fdatasyncs per 4 MiB of log) and was read back when the 2 MiB page cache
    /// had dropped it. Crash safety is unchanged (every commit is still whole); `false` puts the
    /// defaults back and checkpoints without waiting for readers, so no large log is left
    /// for the next process to recover.
    public func setHeavyLoad(_ on: Bool) throws {
        try with { d in
            if on {
                try d.execute("PRAGMA wal_autocheckpoint=16384; PRAGMA cache_size=-65536")
            } else {
                try d.execute("PRAGMA wal_autocheckpoint=1000; PRAGMA cache_size=-2000; PRAGMA wal_checkpoint(PASSIVE)")
            }
        }
    }

    // MARK: tree cache

    public func cachedTree(_ id: ChunkID) throws -> [UInt8]? {
        try with { d in
            let s = try d.statement("SELECT data FROM trees WHERE id=?").bind(1, id.bytes)
            return try s.step() ? s.blob(0) : nil
        }
    }

    public func cacheTree(_ id: ChunkID, _ plaintext: [UInt8]) throws {
        try with { d in try d.statement("INSERT OR IGNORE INTO trees(id,data) VALUES(?,?)").bind(1, id.bytes).bind(2, plaintext).run() }
    }
}

// MARK: scrub progress

extension RepositoryIndex {
    /// When each pack was last fully verified by `scrub --read-data` (ns since the epoch).
    public func verifiedPacks() throws -> [PackID: Int64] {
        try withDatabase { d in
            try d.execute("CREATE TABLE IF NOT EXISTS verified_packs(id BLOB PRIMARY KEY, time INTEGER NOT NULL) WITHOUT ROWID")
            let s = try d.statement("SELECT id, time FROM verified_packs")
            var out: [PackID: Int64] = [:]
            while try s.step() { if let id = PackID(bytes: s.blob(0)) { out[id] = s.int(1) } }
            return out
        }
    }

    public func recordVerified(_ pack: PackID, at nanos: Int64) throws {
        try withDatabase { d in
            try d.execute("CREATE TABLE IF NOT EXISTS verified_packs(id BLOB PRIMARY KEY, time INTEGER NOT NULL) WITHOUT ROWID")
            try d.statement("INSERT OR REPLACE INTO verified_packs(id,time) VALUES(?,?)").bind(1, pack.bytes).bind(2, nanos).run()
        }
    }
}

// MARK: similarity features (delta bases)

extension RepositoryIndex {
    /// Remembers the super-features of a data chunk stored whole, so later
    /// similar chunks can be stored as deltas against it.
    public func addFeatures(_ id: ChunkID, _ features: [Int64]) throws {
        try addFeatures([(id, features)])
    }

    /// The features of many chunks (a stored pack's) in one transaction: one
    /// autocommit per row wrote a WAL frame and took the file locks three times
    /// per chunk (its cost: Docs/performance.md, "First pass").
    public func addFeatures(_ records: [(id: ChunkID, features: [Int64])]) throws {
        guard !records.isEmpty else { return }
        try withDatabase { d in
            try d.transaction {
                for r in records {
                    for f in r.features {
                        try d.statement("INSERT OR IGNORE INTO features(sf,id) VALUES(?,?)").bind(1, f).bind(2, r.id.bytes).run()
                    }
                }
            }
        }
    }

    /// A stored, whole (not delta-encoded) data chunk sharing a super-feature, if any.
    public func similarChunk(_ features: [Int64]) throws -> ChunkID? {
        try withReader { d in
            for f in features {
                let s = try d.statement("""
                    SELECT f.id FROM features f JOIN blobs b ON b.id=f.id AND b.type=0
                    WHERE f.sf=? AND b.base IS NULL LIMIT 1
                    """).bind(1, f)
                if try s.step(), let id = ChunkID(bytes: s.blob(0)) { return id }
            }
            return nil
        }
    }
}

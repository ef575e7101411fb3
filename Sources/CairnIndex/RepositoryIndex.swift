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
    public static let schemaVersion = "6"

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
        try d.execute("DELETE FROM packs; DELETE FROM blobs; DELETE FROM index_objects; DELETE FROM index_members; DELETE FROM snapshots; DELETE FROM snapshot_attributes; DELETE FROM snapshot_objects; DELETE FROM snapshot_members; DELETE FROM trees; DELETE FROM features; DELETE FROM forget_records; DELETE FROM forgotten;")
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

    // MARK: blobs and packs

    /// Whether the cache holds any blob location (false: a cold or reset cache).
    public func hasBlobLocations() throws -> Bool {
        try with { d in
            let s = try d.statement("SELECT EXISTS(SELECT 1 FROM blobs)")
            _ = try s.step()
            return s.int(0) != 0
        }
    }

    public func lookup(_ id: ChunkID, type: BlobType) throws -> BlobLocation? {
        try withReader { d in
            let s = try d.statement("SELECT p.id, b.offset, b.length, b.raw_length, b.base FROM blobs b JOIN packs p ON p.pid=b.pid WHERE b.id=? AND b.type=?")
                .bind(1, id.bytes).bind(2, Int64(type.rawValue))
            guard try s.step(), let pack = PackID(bytes: s.blob(0)) else { return nil }
            return BlobLocation(pack: pack, offset: UInt64(s.int(1)), length: UInt32(s.int(2)), rawLength: UInt32(s.int(3)),
                                base: s.isNull(4) ? nil : ChunkID(bytes: s.blob(4)))
        }
    }

    /// `lookup` for many ids under one lock, one prepared statement and one
    /// read transaction (a restore asks for many windows of chunks at a time:
    /// without the transaction every row would take and drop SQLite's WAL
    /// read lock and stat its files); results in the order of `ids`.
    public func lookup(_ ids: [ChunkID], type: BlobType) throws -> [BlobLocation?] {
        try with { d in
            // Ids are hashes, so a restore's lookups land all over the blobs
            // table: with SQLite's default 2 MB page cache most of them were a
            // pread. Up to 32 MiB (allocated only as pages are read) keeps
            // the index of a large repository in memory after one pass.
            try d.execute("PRAGMA cache_size=-32768")
            return try Self.eachRow(ids, type: type, in: d,
                                   sql: "SELECT p.id, b.offset, b.length, b.raw_length, b.base FROM blobs b JOIN packs p ON p.pid=b.pid WHERE b.id=? AND b.type=?") { s in
                s.id(0, as: PackID.self).map { BlobLocation(pack: $0, offset: UInt64(s.int(1)), length: UInt32(s.int(2)), rawLength: UInt32(s.int(3)),
                                           base: s.isNull(4) ? nil : s.id(4)) }
            }
        }
    }

    /// Runs `sql` (binding each id and `type`) for every id in one read
    /// transaction; `row` reads the first result row, nil when there is none.
    private static func eachRow<T>(_ ids: [ChunkID], type: BlobType, in d: SQLiteDatabase, sql: String,
                                   row: (SQLiteStatement) -> T?) throws -> [T?] {
        let s = try d.statement(sql)
        return try d.readTransaction {
            var out: [T?] = []
            out.reserveCapacity(ids.count)
            for id in ids {
                s.reset()
                s.bind(1, id: id).bind(2, Int64(type.rawValue))
                out.append(try s.step() ? row(s) : nil)
            }
            // A statement left on a row would keep the transaction from committing.
            s.reset()
            return out
        }
    }

    /// A blob row that can be decoded: stored whole, or a delta whose base is
    /// indexed and stored whole (format-spec §8). A delta whose base is gone
    /// (pruned, or never stored by a killed writer) is as good as absent:
    /// dedup must store the chunk again rather than reuse it.
    static let usableBlob = """
        SELECT 1 FROM blobs b WHERE b.id=? AND b.type=? AND (b.base IS NULL OR
            EXISTS (SELECT 1 FROM blobs w WHERE w.id=b.base AND w.type=0 AND w.base IS NULL))
        """

    /// `contains` for many ids in one read transaction on a pooled reader:
    /// a re-read stream asks for every chunk, and one WAL read lock per chunk
    /// (fcntl locks, a stat) cost more than the lookups.
    public func contains(_ ids: [ChunkID], type: BlobType) throws -> [Bool] {
        try withReader { d in
            try Self.eachRow(ids, type: type, in: d, sql: Self.usableBlob) { _ in true }.map { $0 != nil }
        }
    }

    /// Whether the index holds a decodable copy of the blob (what dedup may reuse).
    public func contains(_ id: ChunkID, type: BlobType) throws -> Bool {
        try withReader { d in
            try d.statement(Self.usableBlob).bind(1, id.bytes).bind(2, Int64(type.rawValue)).step()
        }
    }

    /// Records a pack and its blobs. `indexed` says whether an index delta in
    /// the store already names it.
    public func addPacks(_ packs: [IndexedPack], indexed: Bool) throws {
        guard !packs.isEmpty else { return }
        try with { d in
            try d.transaction {
                for p in packs { try Self.insert(p, indexed: indexed, into: d) }
            }
        }
    }

    @discardableResult
    private static func insert(_ p: IndexedPack, indexed: Bool, into d: SQLiteDatabase) throws -> Int64 {
        let pid = try insertPack(p, indexed: indexed, into: d)
        let st = try d.statement(upsertBlob)
        for e in p.entries {
            st.reset()
            st.bind(1, id: e.id).bind(2, Int64(e.type.rawValue)).bind(3, pid)
                .bind(4, Int64(e.offset)).bind(5, Int64(e.length)).bind(6, Int64(e.rawLength))
            if let base = e.base { st.bind(7, id: base) }
            try st.run()
        }
        st.reset()
        return pid
    }

    /// The `packs` row of `p` (added, or marked indexed when `indexed`); returns its pid.
    static func insertPack(_ p: IndexedPack, indexed: Bool, into d: SQLiteDatabase) throws -> Int64 {
        let find = try d.statement("SELECT pid, indexed FROM packs WHERE id=?").bind(1, id: p.id)
        if try find.step() {
            let pid = find.int(0)
            let wasIndexed = find.int(1) != 0
            find.reset()
            if indexed && !wasIndexed { try d.statement("UPDATE packs SET indexed=1, entries=NULL WHERE pid=?").bind(1, pid).run() }
            return pid
        }
        find.reset()
        // A pack no index object names yet keeps its own entry list: the blobs
        // table holds one location per blob, so it cannot say what this pack holds.
        let stmt = try d.statement("INSERT INTO packs(id,type,size,indexed,entries) VALUES(?,?,?,?,?)")
            .bind(1, id: p.id).bind(2, Int64(p.type.rawValue)).bind(3, Int64(p.size)).bind(4, indexed ? 1 : 0)
        if !indexed { stmt.bind(5, PackHeader(type: p.type, entries: p.entries).encoded()) }
        try stmt.run()
        return sqlite3LastRowID(d)
    }

    /// Adds one blob location (id, type, pid, offset, length, raw length, base). One location
    /// per blob: the first one loaded, unless a later copy is better. A copy stored whole
    /// replaces a delta, and any copy replaces a delta whose base is not (or not yet) indexed
    /// whole, so a chunk stored again after its delta lost its base is found, and a delta is
    /// never preferred over a copy that needs no base.
    static let upsertBlob = """
        INSERT INTO blobs(id,type,pid,offset,length,raw_length,base) VALUES(?,?,?,?,?,?,?)
        ON CONFLICT(id,type) DO UPDATE SET pid=excluded.pid, offset=excluded.offset, length=excluded.length,
            raw_length=excluded.raw_length, base=excluded.base
        WHERE blobs.base IS NOT NULL AND (excluded.base IS NULL OR NOT EXISTS
            (SELECT 1 FROM blobs w WHERE w.id=blobs.base AND w.type=0 AND w.base IS NULL))
        """

    /// Packs written by this cache but not yet named by an index delta in the store.
    public func unindexedPacks() throws -> [IndexedPack] {
        try with { d in
            var out: [IndexedPack] = []
            let s = try d.statement("SELECT id, size, entries FROM packs WHERE indexed=0 ORDER BY pid")
            while try s.step() {
                guard let id = PackID(bytes: s.blob(0)) else { continue }
                let size = UInt64(s.int(1))
                let header = try PackHeader.decode(s.blob(2), dataLength: nil)
                out.append(IndexedPack(id: id, type: header.type, size: size, entries: header.entries))
            }
            return out
        }
    }

    /// Records that index object `indexObject` (written by this process, `size` bytes) names `packs`.
    public func markIndexed(_ packs: [PackID], indexObject: String, size: Int = 0) throws {
        try with { d in
            try d.transaction {
                for p in packs {
                    try d.statement("UPDATE packs SET indexed=1, entries=NULL WHERE id=?").bind(1, p.bytes).run()
                    try d.statement("INSERT OR IGNORE INTO index_members(object,pid) SELECT ?, pid FROM packs WHERE id=?")
                        .bind(1, indexObject).bind(2, p.bytes).run()
                }
                try d.statement("INSERT OR IGNORE INTO index_objects(name,size) VALUES(?,?)").bind(1, indexObject).bind(2, Int64(size)).run()
            }
        }
    }

    /// Records that index object `indexObject` (stored by this process, `size` bytes) names
    /// `packs`. A pack the cache holds no row for (another process sharing the cache dropped or
    /// emptied it meanwhile) is added with its blob locations: the cache never says an object
    /// is loaded while lacking what it names.
    public func markIndexed(_ packs: [IndexedPack], indexObject: String, size: Int = 0) throws {
        try with { d in
            try d.transaction {
                let find = try d.statement("SELECT 1 FROM packs WHERE id=?")
                for p in packs {
                    find.reset()
                    let known = try find.bind(1, id: p.id).step()
                    find.reset()
                    let pid = known ? try Self.insertPack(p, indexed: true, into: d) : try Self.insert(p, indexed: true, into: d)
                    try d.statement("INSERT OR IGNORE INTO index_members(object,pid) VALUES(?,?)").bind(1, indexObject).bind(2, pid).run()
                }
                try d.statement("INSERT OR IGNORE INTO index_objects(name,size) VALUES(?,?)").bind(1, indexObject).bind(2, Int64(size)).run()
            }
        }
    }

    /// Loads an index delta read from the store (`size` bytes there).
    public func addIndexObject(_ name: String, _ delta: IndexDelta, size: Int = 0) throws {
        try with { d in
            try d.transaction {
                for p in delta.packs {
                    let pid = try Self.insert(p, indexed: true, into: d)
                    try d.statement("INSERT OR IGNORE INTO index_members(object,pid) VALUES(?,?)").bind(1, name).bind(2, pid).run()
                }
                try d.statement("INSERT OR IGNORE INTO index_objects(name,size) VALUES(?,?)").bind(1, name).bind(2, Int64(size)).run()
            }
        }
    }

    public func indexObjectNames() throws -> Set<String> {
        try with { d in
            let s = try d.statement("SELECT name FROM index_objects")
            var out = Set<String>(); while try s.step() { out.insert(s.text(0)) }
            return out
        }
    }

    /// The loaded index objects with their sizes in the store, smallest first.
    public func indexObjects() throws -> [(name: String, size: Int)] {
        try with { d in
            let s = try d.statement("SELECT name, size FROM index_objects ORDER BY size, name")
            var out: [(String, Int)] = []
            while try s.step() { out.append((s.text(0), Int(s.int(1)))) }
            return out
        }
    }

    /// Records the size index object `name` has in the store (a cache filled by an older
    /// `index rebuild` recorded 0 for every object).
    public func setIndexObjectSize(_ name: String, _ size: Int) throws {
        try with { d in try d.statement("UPDATE index_objects SET size=? WHERE name=?").bind(1, Int64(size)).bind(2, name).run() }
    }

    /// The packs (cache row numbers) loaded index object `name` names: two objects naming the same
    /// packs hold the same locations (a pack's id is the hash of its bytes).
    public func indexObjectMembers(_ name: String) throws -> Set<Int64> {
        try with { d in
            let s = try d.statement("SELECT pid FROM index_members WHERE object=?").bind(1, name)
            var out = Set<Int64>(); while try s.step() { out.insert(s.int(0)) }
            return out
        }
    }

    /// Forgets loaded index objects that are gone from the store, and every
    /// indexed pack no remaining loaded object names, with its blob
    /// locations. Objects merged into another (format-spec §10) lose nothing:
    /// the merged object, loaded next, names their packs again. After a prune
    /// (or a repair) rewrote the index, the packs it deleted are forgotten
    /// and the blobs it moved are found where it put them. An indexed pack
    /// no membership names at all (an index rebuilt from pack headers) goes
    /// too: the cache forgets what it cannot vouch for, never keeps it.
    /// Returns how many packs were forgotten.
    @discardableResult
    public func forgetIndexObjects(_ names: [String]) throws -> Int {
        guard !names.isEmpty else { return 0 }
        return try with { d in
            try d.transaction {
                for n in names {
                    try d.statement("DELETE FROM index_members WHERE object=?").bind(1, n).run()
                    try d.statement("DELETE FROM index_objects WHERE name=?").bind(1, n).run()
                }
                try d.execute("""
                    CREATE TEMP TABLE IF NOT EXISTS orphaned_packs(pid INTEGER PRIMARY KEY);
                    DELETE FROM orphaned_packs;
                    INSERT INTO orphaned_packs(pid) SELECT p.pid FROM packs p WHERE p.indexed<>0
                        AND NOT EXISTS (SELECT 1 FROM index_members m WHERE m.pid=p.pid);
                    DELETE FROM blobs WHERE pid IN (SELECT pid FROM orphaned_packs);
                    DELETE FROM packs WHERE pid IN (SELECT pid FROM orphaned_packs);
                    """)
                let s = try d.statement("SELECT count(*) FROM orphaned_packs")
                _ = try s.step()
                let n = Int(s.int(0))
                s.reset()
                try d.execute("DELETE FROM orphaned_packs")
                return n
            }
        }
    }

    public func totals() throws -> IndexTotals {
        try with { d in
            var t = IndexTotals()
            let b = try d.statement("""
                SELECT count(*), coalesce(sum(raw_length),0), coalesce(sum(length),0), coalesce(sum(type=0),0),
                       coalesce(sum(CASE WHEN type=0 THEN raw_length ELSE 0 END),0), coalesce(sum(CASE WHEN type=0 THEN length ELSE 0 END),0) FROM blobs
                """)
            if try b.step() {
                t.blobCount = b.int(0); t.rawBytes = b.int(1); t.storedBlobBytes = b.int(2); t.dataBlobCount = b.int(3)
                t.dataRawBytes = b.int(4); t.dataStoredBytes = b.int(5)
            }
            let p = try d.statement("SELECT count(*), coalesce(sum(size),0) FROM packs")
            if try p.step() { t.packCount = p.int(0); t.packBytes = p.int(1) }
            return t
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

import CSQLite3
private func sqlite3LastRowID(_ d: SQLiteDatabase) -> Int64 { sqlite3_last_insert_rowid(d.handle) }

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

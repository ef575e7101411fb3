import CSQLite3
import CairnFormat

// MARK: blobs and packs

/// Blob locations, pack rows and the index objects that name them (the
/// part of the cache that `sync` fills from `index/` and a backup from the
/// packs it stores).
extension RepositoryIndex {
    /// Whether the cache holds any blob location (false: a cold or reset cache).
    public func hasBlobLocations() throws -> Bool {
        try withDatabase { d in
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
        try withDatabase { d in
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
        try withDatabase { d in
            try d.transaction {
                for p in packs { try Self.insert(p, indexed: indexed, into: d) }
            }
        }
    }

    @discardableResult
    static func insert(_ p: IndexedPack, indexed: Bool, into d: SQLiteDatabase) throws -> Int64 {
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

    /// The pid of pack `id`'s row, marked indexed when `indexed`; nil when the cache has no row for it.
    static func existingPack(_ id: PackID, indexed: Bool, in d: SQLiteDatabase) throws -> Int64? {
        let find = try d.statement("SELECT pid, indexed FROM packs WHERE id=?").bind(1, id: id)
        defer { find.reset() }
        guard try find.step() else { return nil }
        let pid = find.int(0)
        let wasIndexed = find.int(1) != 0
        find.reset()
        if indexed && !wasIndexed { try d.statement("UPDATE packs SET indexed=1, entries=NULL WHERE pid=?").bind(1, pid).run() }
        return pid
    }

    /// The `packs` row of `p` (added, or marked indexed when `indexed`); returns its pid.
    static func insertPack(_ p: IndexedPack, indexed: Bool, into d: SQLiteDatabase) throws -> Int64 {
        if let pid = try existingPack(p.id, indexed: indexed, in: d) { return pid }
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
        try withDatabase { d in
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
        try withDatabase { d in
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
        try withDatabase { d in
            try d.transaction {
                for p in packs {
                    // One look-up of the row in the usual case; a row gone meanwhile is added whole.
                    let pid = try Self.existingPack(p.id, indexed: true, in: d) ?? Self.insert(p, indexed: true, into: d)
                    try d.statement("INSERT OR IGNORE INTO index_members(object,pid) VALUES(?,?)").bind(1, indexObject).bind(2, pid).run()
                }
                try d.statement("INSERT OR IGNORE INTO index_objects(name,size) VALUES(?,?)").bind(1, indexObject).bind(2, Int64(size)).run()
            }
        }
    }

    /// Loads an index delta read from the store (`size` bytes there).
    public func addIndexObject(_ name: String, _ delta: IndexDelta, size: Int = 0) throws {
        try withDatabase { d in
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
        try withDatabase { d in
            let s = try d.statement("SELECT name FROM index_objects")
            var out = Set<String>(); while try s.step() { out.insert(s.text(0)) }
            return out
        }
    }

    /// The loaded index objects with their sizes in the store, smallest first.
    public func indexObjects() throws -> [(name: String, size: Int)] {
        try namesBySize(in: "index_objects")
    }

    /// The (name, size) rows of `table` (`index_objects`, `forget_records`), smallest first.
    func namesBySize(in table: String) throws -> [(name: String, size: Int)] {
        try withDatabase { d in
            let s = try d.statement("SELECT name, size FROM \(table) ORDER BY size, name")
            var out: [(String, Int)] = []
            while try s.step() { out.append((s.text(0), Int(s.int(1)))) }
            return out
        }
    }

    /// Records the size index object `name` has in the store (a cache filled by an older
    /// `index rebuild` recorded 0 for every object).
    public func setIndexObjectSize(_ name: String, _ size: Int) throws {
        try withDatabase { d in try d.statement("UPDATE index_objects SET size=? WHERE name=?").bind(1, Int64(size)).bind(2, name).run() }
    }

    /// The packs (cache row numbers) loaded index object `name` names: two objects naming the same
    /// packs hold the same locations (a pack's id is the hash of its bytes).
    public func indexObjectMembers(_ name: String) throws -> Set<Int64> {
        try withDatabase { d in
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
        return try withDatabase { d in
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
                if n > 0 { try Self.notePackDrops(in: d) }
                return n
            }
        }
    }

    public func totals() throws -> IndexTotals {
        try withDatabase { d in
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
}

private func sqlite3LastRowID(_ d: SQLiteDatabase) -> Int64 { sqlite3_last_insert_rowid(d.handle) }

import CairnFormat

extension RepositoryIndex {
    /// Forgets every pack and blob location that came from an index object,
    /// and every loaded index object (snapshots, the tree cache and scrub
    /// progress stay): after another machine's prune replaced the index
    /// objects, the cache must not keep locations of blobs that may be gone,
    /// or a backup would dedup against them. `Repository.sync()` then reloads
    /// the store's index objects. Packs this machine stored that no index
    /// object names yet stay (a running backup still has to name them; sync
    /// drops those a prune deleted).
    public func dropBlobLocations() throws {
        try withDatabase { d in
            try d.transaction { try Self.dropBlobLocations(in: d) }
        }
    }

    /// `dropBlobLocations` inside a transaction of the caller's.
    static func dropBlobLocations(in d: SQLiteDatabase) throws {
        try withFastDelete(d) {
            try d.execute("""
                DELETE FROM blobs WHERE pid NOT IN (SELECT pid FROM packs WHERE indexed=0);
                DELETE FROM packs WHERE indexed<>0;
                DELETE FROM index_objects;
                DELETE FROM index_members;
                """)
        }
        try notePackDrops(in: d)
    }
}

extension RepositoryIndex {
    /// Packs this cache recorded but no index object names yet (left by a backup that stopped early).
    public func unindexedPackIDs() throws -> [PackID] {
        try withDatabase { d in
            let s = try d.statement("SELECT id FROM packs WHERE indexed=0")
            var out: [PackID] = []
            while try s.step() { if let id = PackID(bytes: s.blob(0)) { out.append(id) } }
            return out
        }
    }

    /// Forgets one pack and the blob locations in it.
    public func dropPack(_ id: PackID) throws {
        try withDatabase { d in
            try d.transaction {
                try d.statement("DELETE FROM blobs WHERE pid IN (SELECT pid FROM packs WHERE id=?)").bind(1, id.bytes).run()
                try d.statement("DELETE FROM index_members WHERE pid IN (SELECT pid FROM packs WHERE id=?)").bind(1, id.bytes).run()
                try d.statement("DELETE FROM packs WHERE id=?").bind(1, id.bytes).run()
                try Self.notePackDrops(in: d)
            }
        }
    }
}

// MARK: forget records (format-spec §20)

extension RepositoryIndex {
    /// Created with the database (`RepositoryIndex.init`); `reset` empties them with the rest.
    static let forgetSchema = """
        CREATE TABLE IF NOT EXISTS forget_records(name TEXT PRIMARY KEY, size INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE IF NOT EXISTS forgotten(id TEXT PRIMARY KEY, time INTEGER NOT NULL);
        """

    /// The forget records this cache has loaded, with their sizes, smallest first.
    public func forgetRecords() throws -> [(name: String, size: Int)] {
        try namesBySize(in: "forget_records")
    }

    /// Names of the forget records this cache has loaded.
    public func forgetRecordNames() throws -> Set<String> {
        try withDatabase { d in
            let s = try d.statement("SELECT name FROM forget_records")
            var out = Set<String>(); while try s.step() { out.insert(s.text(0)) }
            return out
        }
    }

    /// Loads one forget record: its name and the snapshots it names, in one transaction.
    public func addForgetRecord(_ name: String, _ record: ForgetRecord, size: Int = 0) throws {
        try addForgetRecord(name, entries: record.snapshots.map { ForgetRecordSet.Entry(id: $0, timeNanos: record.timeNanos) }, size: size)
    }

    /// Loads one forget record (single or merged, format-spec v2.md) of `size` bytes in the store:
    /// its name and each snapshot it names with when.
    public func addForgetRecord(_ name: String, entries: [ForgetRecordSet.Entry], size: Int = 0) throws {
        try withDatabase { d in
            try d.transaction {
                for e in entries {
                    try d.statement("INSERT INTO forgotten(id,time) VALUES(?,?) ON CONFLICT(id) DO UPDATE SET time=max(time, excluded.time)")
                        .bind(1, e.id.hex).bind(2, e.timeNanos).run()
                }
                try d.statement("INSERT OR IGNORE INTO forget_records(name,size) VALUES(?,?)").bind(1, name).bind(2, Int64(size)).run()
            }
        }
    }

    /// Forgets the names of forget records merged into another (their content stays: the merged record holds it).
    public func removeForgetRecordNames(_ names: [String]) throws {
        try withDatabase { d in
            try d.transaction {
                for n in names { try d.statement("DELETE FROM forget_records WHERE name=?").bind(1, n).run() }
            }
        }
    }

    /// When each of `ids` was forgotten, for those that were.
    public func forgotten(_ ids: [String]) throws -> [String: Int64] {
        try withDatabase { d in
            var out: [String: Int64] = [:]
            let s = try d.statement("SELECT time FROM forgotten WHERE id=?")
            // One read transaction: a cold load asks this of every snapshot of each catalogue, and
            // each lookup on its own took and dropped SQLite's WAL read lock (two fcntl calls).
            try d.readTransaction {
                for id in ids {
                    s.reset()
                    s.bind(1, id)
                    if try s.step() { out[id] = s.int(0) }
                }
                s.reset()
            }
            return out
        }
    }
}

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
            try d.transaction {
                try d.execute("""
                    DELETE FROM blobs WHERE pid NOT IN (SELECT pid FROM packs WHERE indexed=0);
                    DELETE FROM packs WHERE indexed<>0;
                    DELETE FROM index_objects;
                    """)
            }
        }
    }
}

extension RepositoryIndex {
    /// Packs this cache recorded but no index object names yet (left by a backup that stopped early).
    public func unindexedPackIDs() throws -> [ChunkID] {
        try withDatabase { d in
            let s = try d.statement("SELECT id FROM packs WHERE indexed=0")
            var out: [ChunkID] = []
            while try s.step() { if let id = ChunkID(bytes: s.blob(0)) { out.append(id) } }
            return out
        }
    }

    /// Forgets one pack and the blob locations in it.
    public func dropPack(_ id: ChunkID) throws {
        try withDatabase { d in
            try d.transaction {
                try d.statement("DELETE FROM blobs WHERE pid IN (SELECT pid FROM packs WHERE id=?)").bind(1, id.bytes).run()
                try d.statement("DELETE FROM packs WHERE id=?").bind(1, id.bytes).run()
            }
        }
    }
}

// MARK: forget records (format-spec §20)

extension RepositoryIndex {
    private static let forgetSchema = """
        CREATE TABLE IF NOT EXISTS forget_records(name TEXT PRIMARY KEY);
        CREATE TABLE IF NOT EXISTS forgotten(id TEXT PRIMARY KEY, time INTEGER NOT NULL);
        """

    /// Names of the forget records this cache has loaded.
    public func forgetRecordNames() throws -> Set<String> {
        try withDatabase { d in
            try d.execute(Self.forgetSchema)
            let s = try d.statement("SELECT name FROM forget_records")
            var out = Set<String>(); while try s.step() { out.insert(s.text(0)) }
            return out
        }
    }

    /// Loads one forget record: its name and the snapshots it names, in one transaction.
    public func addForgetRecord(_ name: String, _ record: ForgetRecord) throws {
        try withDatabase { d in
            try d.execute(Self.forgetSchema)
            try d.transaction {
                for id in record.snapshots {
                    try d.statement("INSERT INTO forgotten(id,time) VALUES(?,?) ON CONFLICT(id) DO UPDATE SET time=max(time, excluded.time)")
                        .bind(1, id.hex).bind(2, record.timeNanos).run()
                }
                try d.statement("INSERT OR IGNORE INTO forget_records(name) VALUES(?)").bind(1, name).run()
            }
        }
    }

    /// When each of `ids` was forgotten, for those that were.
    public func forgotten(_ ids: [String]) throws -> [String: Int64] {
        try withDatabase { d in
            try d.execute(Self.forgetSchema)
            var out: [String: Int64] = [:]
            let s = try d.statement("SELECT time FROM forgotten WHERE id=?")
            for id in ids {
                s.reset()
                s.bind(1, id)
                if try s.step() { out[id] = s.int(0) }
            }
            s.reset()
            return out
        }
    }
}

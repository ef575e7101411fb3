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

import CairnFormat

extension RepositoryIndex {
    /// Forgets every pack and blob location and every loaded index object
    /// (snapshots, the tree cache and scrub progress stay): after another
    /// machine's prune replaced the index objects, the cache must not keep
    /// locations of blobs that may be gone, or a backup would dedup against
    /// them. `Repository.sync()` then reloads the store's index objects.
    public func dropBlobLocations() throws {
        try withDatabase { d in
            try d.transaction { try d.execute("DELETE FROM blobs; DELETE FROM packs; DELETE FROM index_objects;") }
        }
    }
}

import CairnFormat
import CairnIndex
import CairnStorage

extension Repository {
    // MARK: keeping the cache in step with the store

    /// Loads index objects and snapshots the cache has not seen and forgets
    /// those gone from the store, object by object: the cost follows what
    /// changed, not the size of the repository. When index objects the cache
    /// had loaded are gone, every pack no remaining object names is
    /// forgotten before the new objects load: objects merged into another
    /// lose nothing (the merged one names their packs again), and after a
    /// prune elsewhere the cache keeps no location of a deleted pack.
    public func sync() async throws {
        if try index.repairInterruptedLoad() {
            warnings.warn("the local index at \(cacheDirectory) was being loaded by a process that stopped; reloading it from the store")
        }
        if let why = try index.inconsistency() {
            // The cache is only a cache: one that cannot match any store is refilled from this one.
            warnings.warn("the local index at \(cacheDirectory) disagrees with the store (\(why)); reloading it from the store")
            try index.dropBlobLocations()
        }
        let known = try index.indexObjectNames()
        let listed = try await store.list(.index)
        let gone = known.subtracting(listed.map(\.name))
        if !gone.isEmpty {
            // Merged into another object (format-spec §10), or rewritten by a prune that may have
            // deleted packs: packs no remaining object names are forgotten until one names them again.
            try index.forgetIndexObjects(Array(gone))
        }
        // Packs a stopped backup left unindexed may have been deleted by a prune as unused.
        for pack in try index.unindexedPackIDs() where try await store.size(ObjectKey(.data, pack.hex)) == nil {
            try index.dropPack(pack)
        }
        let fresh = listed.filter { !known.contains($0.name) }
        // Many entries at once (a cold or reset cache, or many new objects) go in sorted by id,
        // with the connection set for a load of many objects until the snapshots are in too.
        var bulk: IndexBulkLoad? = nil, heavy = false
        defer { if heavy { try? index.setHeavyLoad(false) } }
        if !fresh.isEmpty, try fresh.count >= Self.bulkLoadObjects || !index.hasBlobLocations() {
            heavy = true
            try index.setHeavyLoad(true)
            bulk = try IndexBulkLoad(index: index, directory: cacheDirectory)
        }
        do {
            try await loadIndexObjects(fresh, bulk: bulk)
            try bulk?.finish()
        } catch {
            // What was loaded whole is kept; the rest loads at the next sync.
            try? bulk?.finish()
            throw error
        }
        // Forget records first: a snapshot they name is not a new one, whatever the store holds.
        let knownRecords = try index.forgetRecordNames()
        let listedRecords = try await store.list(.forgotten)
        try await fetchInOrder(listedRecords.filter { !knownRecords.contains($0.name) }) { key, fetched in
            do {
                switch fetched {
                case .gone: return
                case .unusable(let why): throw CairnError.other(why)
                case .bytes(let bytes):
                    guard MetadataObjects.matchesName(key, bytes) else { throw CairnError.other(MetadataObjects.nameMismatch) }
                    let entries = try ForgetRecords.decode(self, bytes)
                    try index.addForgetRecord(key.name, entries: entries, size: bytes.count)
                    // A snapshot this cache holds that a forget removed elsewhere (and someone put back).
                    try index.removeSnapshots(ids: entries.map(\.id.hex))
                }
            } catch {
                warnOnce(key, "forget record \(key.name.prefix(12)) is damaged (\(describe(error))): skipped; run 'cairn scrub'")
            }
        }
        // Records merged into another (format-spec v2.md): their content stays with the merged one.
        let goneRecords = knownRecords.subtracting(listedRecords.map(\.name))
        if !goneRecords.isEmpty { try index.removeForgetRecordNames(Array(goneRecords)) }
        try await syncSnapshotObjects()
    }

    /// New index objects from which `sync` goes through an `IndexBulkLoad` even when the cache holds blob locations.
    static let bulkLoadObjects = 16

    /// Reads and loads index objects `objects` (a damaged one is skipped with a warning), into `bulk` when given.
    private func loadIndexObjects(_ objects: [ObjectKey], bulk: IndexBulkLoad?) async throws {
        try await fetchInOrder(objects) { key, fetched in
            let bytes: [UInt8]
            switch fetched {
            case .gone: return
            case .unusable(let why):
                warnOnce(key, "index object \(key.name.prefix(12)) is damaged (\(why)): skipped; run 'cairn scrub' and 'cairn index rebuild --read-packs'")
                return
            case .bytes(let b): bytes = b
            }
            let delta: IndexDelta
            do { delta = try IndexDelta.decode(try keys.openObject(.index, bytes)) } catch {
                // One damaged index object must not make the repository unusable: what it named
                // is missing until 'cairn index rebuild' reads the packs' own headers.
                warnOnce(key, "index object \(key.name.prefix(12)) is damaged (\(describe(error))): skipped; run 'cairn scrub' and 'cairn index rebuild --read-packs'")
                return
            }
            // Sealed under the repository's key, so its content is authentic: a renamed index
            // object still says truly where blobs are (every blob is verified when read).
            if !MetadataObjects.matchesName(key, bytes) {
                warnOnce(key, "index object \(key.name.prefix(12)) \(MetadataObjects.nameMismatch); its content is still used; run 'cairn scrub'")
            }
            if let bulk {
                try bulk.add(delta.packs, indexed: true, object: (key.name, bytes.count))
            } else {
                try index.addIndexObject(key.name, delta, size: bytes.count)
            }
        }
    }

    func warnOnce(_ key: ObjectKey, _ message: String) {
        if warned.withLock({ $0.insert(key).inserted }) { warnings.warn(message) }
    }
}

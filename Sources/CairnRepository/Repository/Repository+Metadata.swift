import CairnCrypto
import CairnFormat
import CairnIndex
import CairnStorage

extension Repository {
    // MARK: metadata objects

    /// Writes index deltas naming `packs` (several when they are many,
    /// `IndexDelta.parts`), the one naming `supersedes` last; returns the
    /// name of the last one.
    @discardableResult
    public func saveIndexDelta(_ packs: [IndexedPack], supersedes: [IndexObjectID] = []) async throws -> String {
        try await saveIndexDeltas(packs, supersedes: supersedes).last!
    }

    /// `saveIndexDelta`, returning every name written, in order.
    public func saveIndexDeltas(_ packs: [IndexedPack], supersedes: [IndexObjectID] = []) async throws -> [String] {
        let writer = IndexDeltaWriter(repo: self)
        writer.afterWrite = { [index] name, packs, size in try index.markIndexed(packs, indexObject: name, size: size) }
        for pack in packs { try await writer.add(pack) }
        return try await writer.finish(supersedes: supersedes)
    }

    /// Writes one index delta naming every pack the cache knows but no index delta names yet
    /// and every pack of `own`, whatever the cache says of those.
    ///
    /// `own` is what the caller stored itself, from its own record (`BlobSaver` keeps it in
    /// memory): the cache is shared by every writer of this user on this host, and what it
    /// lists as unindexed is what other processes left it saying. A pack another writer named
    /// meanwhile is named twice, which is harmless (a merge keeps one entry); one the cache
    /// lost sight of is still named, so a snapshot committed after this call never uses a
    /// pack that no index object in the store names. The cache's unindexed packs are named as
    /// well: a chunk deduplicated against another writer's stored pack needs that pack named
    /// even if its writer stops before it names it.
    public func flushUnindexedPacks(own: [IndexedPack] = []) async throws {
        var packs = try index.unindexedPacks()
        let listed = Set(packs.map(\.id))
        packs += own.filter { !listed.contains($0.id) }
        if !packs.isEmpty { try await saveIndexDelta(packs) }
    }

    /// Commits a snapshot: the commit point of a backup. Returns its id's hex (`commitSnapshot`: the id).
    public func saveSnapshot(_ snapshot: Snapshot) async throws -> String {
        try await commitSnapshot(snapshot).hex
    }

    /// Commits a snapshot and returns its id (the SHA-256 of its sealed object).
    public func commitSnapshot(_ snapshot: Snapshot) async throws -> SnapshotID {
        let plain = snapshot.encoded()
        let sealed = try keys.sealObject(.snapshot, plain)
        // Readers refuse larger snapshot objects unread (format-spec §2): never write one.
        if let cap = MetadataObjects.maximumSize(.snapshots), UInt64(sealed.count) > cap {
            throw CairnError.invalidArgument("the snapshot would be \(sealed.count) bytes, more than the \(cap) a snapshot object may have: record fewer paths, tags or extra facts")
        }
        let snapshotID = SnapshotID(reinterpreting: SHA256.id(sealed))
        let id = snapshotID.hex
        try await store.put(ObjectKey(.snapshots, id), sealed)
        try index.addSnapshotObject(LoadedSnapshotObject(name: id, kind: .single, size: Int64(sealed.count), snapshots: 1),
                                    rows: [SnapshotRow(id: id, snapshot: snapshot, plaintext: plain)])
        return snapshotID
    }
}

import CairnFormat
import CairnIndex
import CairnStorage

extension Repository {
    // MARK: reading blobs

    /// Reads, authenticates, decompresses and hash-checks one blob.
    public func readBlob(_ type: BlobType, _ id: ChunkID) async throws -> [UInt8] {
        return try await readBlob(type, id, at: try await locate(id, type: type))
    }

    /// Where the index puts a blob. A blob the local cache lacks is not yet
    /// proof that the repository lacks it: the cache is reloaded from the
    /// store's index objects once (per process) and asked again, so that only
    /// what the store itself does not name is reported missing.
    public func locate(_ id: ChunkID, type: BlobType) async throws -> BlobLocation {
        if let loc = try index.lookup(id, type: type) { return loc }
        try await reloadAfterMiss(id)
        guard let loc = try index.lookup(id, type: type) else { throw CairnError.missingBlob(id.hex) }
        return loc
    }

    /// `locate` for many ids; results in the order of `ids`.
    public func locate(_ ids: [ChunkID], type: BlobType) async throws -> [BlobLocation] {
        var found = try index.lookup(ids, type: type)
        if let i = found.firstIndex(where: { $0 == nil }) {
            try await reloadAfterMiss(ids[i])
            found = try index.lookup(ids, type: type)
        }
        return try zip(ids, found).map { id, loc in
            guard let loc else { throw CairnError.missingBlob(id.hex) }
            return loc
        }
    }

    /// Reloads every blob location from the store's index objects, once per
    /// repository object (concurrent callers wait for the same reload).
    func reloadAfterMiss(_ id: ChunkID) async throws {
        let task: Task<Void, Error> = cacheCheck.withLock { pending in
            if let t = pending { return t }
            let t = Task {
                self.warnings.warn("blob \(id.short) is not in the local index; reloading it from the store's index objects to check")
                try self.index.dropBlobLocations()
                try await self.sync()
            }
            pending = t
            return t
        }
        try await task.value
    }

    /// A tree, from the cache when possible.
    public func loadTree(_ id: ChunkID) async throws -> Tree {
        if let cached = try index.cachedTree(id) { return try Tree.decode(cached) }
        let plain = try await readBlob(.tree, id)
        try index.cacheTree(id, plain)
        return try Tree.decode(plain)
    }

    /// Reads and decrypts a pack's header from the end of the pack.
    public func readPackHeader(_ pack: PackID, size: UInt64) async throws -> PackHeader {
        let key = ObjectKey(.data, pack.hex)
        let what = "pack \(pack.hex)"
        guard size >= UInt64(PackTrailer.length) else { throw FormatError.truncated(what: what) }
        let tail = try await store.get(key, offset: size - UInt64(PackTrailer.length), length: PackTrailer.length)
        let range = try PackTrailer.sealedHeaderRange(tail: tail, packSize: size, what: what)
        let sealed = try await store.get(key, offset: range.lowerBound, length: Int(range.count))
        let plain = try keys.openPackHeader(sealed)
        return try PackHeader.decode(plain, dataLength: range.lowerBound)
    }
}

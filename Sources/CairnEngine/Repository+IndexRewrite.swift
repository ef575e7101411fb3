import CairnCrypto
import CairnFormat
import CairnStorage

extension Repository {
    /// Replaces every index object in the store with deltas naming exactly
    /// `packs`, then rebuilds the local cache from the store.
    ///
    /// Order for crash safety: the new deltas are written first (the last
    /// naming the old ones in `supersedes`), then the old ones are deleted. A crash in
    /// between leaves both; readers take the union, which names only packs
    /// that exist or existed, and the next rewrite removes the leftovers.
    public func rewriteIndex(keeping packs: [IndexedPack]) async throws {
        let old = try await store.list(.index).compactMap { ChunkID(hex: $0.name) }
        var written = Set<String>()
        for part in IndexDelta.parts(packs: packs, supersedes: old) {
            let sealed = try keys.sealObject(.index, part.encoded())
            let name = Hex.encode(SHA256.hash(sealed))
            try await store.put(ObjectKey(.index, name), sealed)
            written.insert(name)
        }
        for o in old where !written.contains(o.hex) { try await store.delete(ObjectKey(.index, o.hex)) }
        try index.reset()
        try await sync()
    }
}


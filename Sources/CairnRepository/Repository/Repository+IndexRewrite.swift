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
        try await rewriteIndex { writer in for p in packs { try await writer.add(p) } }
    }

    /// `rewriteIndex(keeping:)` with the packs handed to the writer by
    /// `feed`, one at a time, so the new index is never all in memory.
    package func rewriteIndex(_ feed: (IndexDeltaWriter) async throws -> Void) async throws {
        let old = try await store.list(.index).compactMap { IndexObjectID(hex: $0.name) }
        let writer = IndexDeltaWriter(repo: self)
        try await feed(writer)
        let written = Set(try await writer.finish(supersedes: old))
        for o in old where !written.contains(o.hex) { try await store.delete(ObjectKey(.index, o.hex)) }
        try index.reset()
        try await sync()
    }
}

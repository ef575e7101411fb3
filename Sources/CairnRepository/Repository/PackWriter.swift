import CairnCrypto
import CairnFormat
import CairnStorage

/// Writes packs of already sealed blobs to the store, one at a time, and
/// hands back what it wrote; nothing is recorded in the cache or named by an
/// index delta (the caller does that). Prune copies verified blobs through it.
/// Packs are built as a backup builds them (`StagedPack`: a staging file, so
/// an open pack costs a write buffer, not its size), then stored with `putFile`.
package final class PackWriter {
    private let repo: Repository
    private let type: PackType
    private var open: StagedPack?
    /// Packs stored, when no `onWritten` takes them.
    private(set) var written: [IndexedPack] = []
    /// Gets each pack as it is stored, instead of `written` keeping it (a prune
    /// that repacks most of a repository must not hold every entry it wrote).
    package var onWritten: ((IndexedPack) async throws -> Void)?
    package private(set) var packsWritten = 0
    package private(set) var bytesWritten: UInt64 = 0

    package init(repo: Repository, type: PackType) { self.repo = repo; self.type = type }

    /// A pack abandoned half-way (the caller failed) leaves no staging file behind.
    deinit { open?.discard() }

    /// `base`: the delta base a data blob was sealed against (bound in its AAD, so it must stay in its entry).
    package func add(sealed: ArraySlice<UInt8>, type blobType: BlobType, id: ChunkID, rawLength: UInt32, base: ChunkID?) async throws {
        precondition(blobType.packType == type)
        let pack: StagedPack
        if let open { pack = open } else { pack = try StagedPack(type: type, repo: repo); open = pack }
        try sealed.withUnsafeBytes { try pack.append($0, type: blobType, id: id, rawLength: Int(rawLength), base: base) }
        if pack.size >= UInt64(repo.config.packSize) { try await flush() }
    }

    /// Stores the open pack, if any (format-spec §9).
    package func flush() async throws {
        guard let pack = open else { return }
        open = nil
        guard !pack.entries.isEmpty else { pack.discard(); return }
        let (id, path, size) = try pack.finish(keys: repo.keys)
        try await repo.store.putFile(ObjectKey(.data, id.hex), path: path, coldEligible: type == .data)
        let stored = IndexedPack(id: id, type: type, size: size, entries: pack.entries)
        packsWritten += 1; bytesWritten += stored.size
        if let onWritten { try await onWritten(stored) } else { written.append(stored) }
    }
}

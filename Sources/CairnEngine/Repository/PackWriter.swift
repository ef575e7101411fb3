import CairnCrypto
import CairnFormat
import CairnStorage

/// Writes packs of already sealed blobs straight to the store, one at a
/// time, and hands back what it wrote; nothing is recorded in the cache or
/// named by an index delta (the caller does that). Prune copies verified
/// blobs through it.
final class PackWriter {
    private let repo: Repository
    private let type: PackType
    private var bytes: [UInt8] = []
    private var entries: [BlobEntry] = []
    /// Packs stored, when no `onWritten` takes them.
    private(set) var written: [IndexedPack] = []
    /// Gets each pack as it is stored, instead of `written` keeping it (a prune
    /// that repacks most of a repository must not hold every entry it wrote).
    var onWritten: ((IndexedPack) async throws -> Void)?
    private(set) var packsWritten = 0
    private(set) var bytesWritten: UInt64 = 0

    init(repo: Repository, type: PackType) { self.repo = repo; self.type = type }

    /// `base`: the delta base a data blob was sealed against (bound in its AAD, so it must stay in its entry).
    func add(sealed: ArraySlice<UInt8>, type blobType: BlobType, id: ChunkID, rawLength: UInt32, base: ChunkID?) async throws {
        precondition(blobType.packType == type)
        entries.append(BlobEntry(type: blobType, id: id, offset: UInt64(bytes.count), length: UInt32(sealed.count), rawLength: rawLength, base: base))
        bytes.append(contentsOf: sealed)
        if bytes.count >= Int(repo.config.packSize) { try await flush() }
    }

    /// Stores the open pack, if any (format-spec §9).
    func flush() async throws {
        guard !entries.isEmpty else { return }
        let (id, pack) = try PackAssembler.assemble(type: type, blobs: bytes, entries: entries, keys: repo.keys)
        try await repo.store.put(ObjectKey(.data, id.hex), pack, coldEligible: type == .data)
        let stored = IndexedPack(id: id, type: type, size: UInt64(pack.count), entries: entries)
        bytes = []; entries = []
        packsWritten += 1; bytesWritten += stored.size
        if let onWritten { try await onWritten(stored) } else { written.append(stored) }
    }
}

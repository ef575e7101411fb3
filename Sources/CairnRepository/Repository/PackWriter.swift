import CairnCrypto
import CairnFormat
import CairnStorage
import Synchronization

/// The one pack writer (format-spec §9): backup, copy and repair (through
/// `BlobSaver`) and prune's repacking all write packs through it. It keeps one
/// `StagedPack` open per pack type (a staging file, so an open pack costs a
/// write buffer, not its size), finishes a pack when it reaches the
/// repository's pack size, and stores it with `putFile`.
///
/// What happens once a pack is stored is the caller's: `recordStored` runs
/// right after the put returned (a backup records the pack in the cache), and
/// with `keepsStored` the pack is kept for `takeStored` (prune names it in the
/// rewritten index). Nothing is recorded before its put returned, so a crash
/// never leaves an index or cache naming a pack that is not in the store.
///
/// Not for concurrent use: one task adds, flushes and waits; only the uploads
/// run in tasks of their own.
package final class PackWriter: @unchecked Sendable {
    /// Super-features of a data blob stored whole (similarity for delta bases), recorded with its pack.
    package typealias Features = (id: ChunkID, features: [Int64])
    /// Runs in the upload's task once a pack's put returned.
    package typealias RecordStored = @Sendable (IndexedPack, [Features]) throws -> Void

    private let repo: Repository
    private let uploadsInFlight: Int
    private let recordStored: RecordStored?
    private let keepsStored: Bool
    /// Packs filling up, one per pack type.
    private var open: [PackType: StagedPack] = [:]
    private var uploads: [Task<Void, Error>] = []
    private let stored = Mutex<[IndexedPack]>([])
    private let counts = Mutex<(packs: Int, bytes: UInt64)>((0, 0))

    /// - Parameters:
    ///   - uploadsInFlight: how many finished packs may be uploading while the caller fills the next;
    ///     0 stores each pack in the caller's task before `add` or `flush` returns.
    ///   - keepsStored: keep every stored pack for `takeStored`.
    ///   - recordStored: called once per pack after its put returned.
    package init(repo: Repository, uploadsInFlight: Int = 0, keepsStored: Bool = false, recordStored: RecordStored? = nil) {
        self.repo = repo
        self.uploadsInFlight = uploadsInFlight
        self.keepsStored = keepsStored
        self.recordStored = recordStored
    }

    /// A pack abandoned half-way (the caller failed) leaves no staging file behind.
    deinit { for pack in open.values { pack.discard() } }

    /// Packs stored so far and their bytes.
    package var packsWritten: Int { counts.withLock { $0.packs } }
    package var bytesWritten: UInt64 { counts.withLock { $0.bytes } }

    /// Appends one sealed blob to the open pack of its type and finishes that
    /// pack when it is full. Returns true when a pack was finished (handed to
    /// the store).
    /// - Parameters:
    ///   - base: the delta base a data blob was sealed against (bound in its AAD, so it must stay in its entry).
    ///   - features: super-features of a data blob stored whole.
    @discardableResult
    package func add(sealed: ArraySlice<UInt8>, type blobType: BlobType, id: ChunkID, rawLength: Int, base: ChunkID?,
                     features: [Int64]? = nil) async throws -> Bool {
        let pt = blobType.packType
        let pack: StagedPack
        if let p = open[pt] { pack = p } else { pack = try StagedPack(type: pt, repo: repo); open[pt] = pack }
        try sealed.withUnsafeBytes { try pack.append($0, type: blobType, id: id, rawLength: rawLength, base: base) }
        if let features { pack.features.append((id, features)) }
        guard pack.size >= UInt64(repo.config.packSize) else { return false }
        return try await flush(pt)
    }

    /// Finishes the open pack of `type`, if it holds a blob, and stores it.
    /// Returns true when a pack was handed to the store.
    @discardableResult
    package func flush(_ type: PackType) async throws -> Bool {
        guard let pack = open.removeValue(forKey: type) else { return false }
        guard !pack.entries.isEmpty else { pack.discard(); return false }
        let (id, path, size) = try pack.finish(keys: repo.keys)
        let indexed = IndexedPack(id: id, type: type, size: size, entries: pack.entries)
        let features = pack.features.map { (id: $0.0, features: $0.1) }
        try await upload(indexed, features: features) { store in
            try await store.putFile(ObjectKey(.data, id.hex), path: path, coldEligible: type == .data)
        }
        return true
    }

    /// Finishes and stores both open packs.
    package func flushAll() async throws {
        try await flush(.data)
        try await flush(.metadata)
    }

    /// Stores a pack finished elsewhere as it is (`cairn copy` between
    /// repositories sharing their master keys copies packs byte for byte),
    /// beside the packs this writer assembles and recorded like them. The
    /// caller has checked that `bytes` hash to `pack.id` (`ObjectStore.putPack`).
    package func storeFinished(_ bytes: [UInt8], _ pack: IndexedPack) async throws {
        try await upload(pack, features: []) { store in
            try await store.putPack(ObjectKey(.data, pack.id.hex), bytes, coldEligible: pack.type == .data)
        }
    }

    /// Packs stored since the last call (only with `keepsStored`); their puts have returned.
    package func takeStored() -> [IndexedPack] {
        stored.withLock { s in defer { s.removeAll() }; return s }
    }

    /// Waits until every pack handed to the store so far is stored and recorded.
    package func waitForUploads() async throws {
        defer { uploads.removeAll() }
        for u in uploads { try await u.value }
    }

    /// Waits for the uploads without throwing and removes the open packs' staging files (on failure).
    package func abandon() async {
        for u in uploads { _ = try? await u.value }
        uploads.removeAll()
        for pack in open.values { pack.discard() }
        open.removeAll()
    }

    private func upload(_ pack: IndexedPack, features: [Features], put: @escaping @Sendable (any ObjectStore) async throws -> Void) async throws {
        let store = repo.store
        let finish: @Sendable () async throws -> Void = { [self] in
            try await put(store)
            counts.withLock { $0.packs += 1; $0.bytes += pack.size }
            try recordStored?(pack, features)
            if keepsStored { stored.withLock { $0.append(pack) } }
        }
        guard uploadsInFlight > 0 else { try await finish(); return }
        while uploads.count >= uploadsInFlight { try await uploads.removeFirst().value }
        uploads.append(Task { try await finish() })
    }
}

import CairnCrypto
import CairnFormat
import CairnIndex
import CairnRepository
import CairnStorage
import Synchronization

/// Decides which blobs a backup, copy or repair stores (claims against the
/// cache and the blobs in flight: dedup), hands them to the one `PackWriter`
/// (packs staged in files, full ones stored in the background, two in
/// flight), records each pack in the local index once it is stored, and
/// writes index checkpoints so an interrupted backup keeps what it stored.
///
/// `claim` may be called from any task; everything else from the one task
/// that runs the archiver's sequential stage.
public final class BlobSaver: @unchecked Sendable {
    private struct Key: Hashable { let id: ChunkID; let type: BlobType }

    let repo: Repository
    private let pending = Mutex<Set<Key>>([])
    /// Records a pack in the cache once it is stored; a saver gone by then records nothing (the rerun's index rebuild finds it).
    private lazy var writer = PackWriter(repo: repo, uploadsInFlight: uploadsInFlight) { [weak self] pack, features in
        try self?.recordStored(pack, features: features)
    }
    /// Packs this saver stored that no index delta of its own names yet: its own record, so that
    /// its checkpoints name them whatever the shared cache says (`Repository.flushUnindexedPacks`).
    private let unnamed = Mutex<[IndexedPack]>([])
    private var packsSinceCheckpoint = 0
    private var lastCheckpoint = Clock.monotonic()
    private let stats = Mutex(Stats())

    /// Checkpoint after this many packs or seconds, whichever comes first.
    public var checkpointPacks = 16
    public var checkpointSeconds = 300.0

    /// What this saver added to the repository.
    public struct Stats: Sendable {
        public var newBlobs = 0
        public var newRawBytes: UInt64 = 0
        public var newDataRawBytes: UInt64 = 0
        public var packsWritten = 0
        public var packBytes: UInt64 = 0
    }

    /// Finished packs uploading while the caller fills the next.
    private let uploadsInFlight: Int

    /// - Parameter uploadsInFlight: finished packs stored at once while the caller goes on (a
    ///   backup's two; a copy of whole packs to a remote store more, to keep every connection busy).
    public init(repo: Repository, uploadsInFlight: Int = 2) {
        self.repo = repo
        self.uploadsInFlight = uploadsInFlight
    }

    public var currentStats: Stats { stats.withLock { $0 } }

    /// Blobs claimed and not yet recorded as stored (in the pack being assembled or uploading):
    /// released a pack at a time, so it does not grow with how many blobs a run stores.
    public var claimsHeld: Int { pending.withLock { $0.count } }

    /// True when the caller is the first to see this blob: it must then seal
    /// and `add` it. False when the repository has it or another task claimed it.
    public func claim(_ id: ChunkID, type: BlobType) throws -> Bool {
        let key = Key(id: id, type: type)
        if pending.withLock({ $0.contains(key) }) { return false }
        if try repo.index.contains(id, type: type) { return false }
        return pending.withLock { $0.insert(key).inserted }
    }

    /// `claim` for many ids of one type, looked up in one read transaction of
    /// the cache (a walk over many small files asks for every blob).
    public func claim(_ ids: [ChunkID], type: BlobType) throws -> [Bool] {
        let unseen = pending.withLock { p in ids.map { !p.contains(Key(id: $0, type: type)) } }
        let asked = zip(ids, unseen).compactMap { $1 ? $0 : nil }
        var present = try repo.index.contains(asked, type: type).makeIterator()
        return pending.withLock { p in
            zip(ids, unseen).map { id, u in
                guard u, present.next() == false else { return false }
                return p.insert(Key(id: id, type: type)).inserted
            }
        }
    }

    /// Claims every blob of a pack the caller stores itself (a copy's whole
    /// packs between local stores, `LocalPackCopier`), before it is stored.
    public func reserve(_ pack: IndexedPack) {
        claimEntries(of: pack)
        countNewBlobs(of: pack)
    }

    /// Records packs the caller stored itself (each durable and in place),
    /// all in one transaction, and releases their claims; the next checkpoint
    /// names them in an index delta, from this saver's own record as for its own packs.
    public func recordStoredPacks(_ packs: [IndexedPack]) throws {
        try recordDurable(packs, features: [])
    }

    /// `recordStoredPacks`, then names the packs in an index delta of their own at once, so
    /// they count towards no checkpoint of this saver. Callable from any task: a copy names
    /// one batch of whole packs while its walk stages the next (`LocalPackCopier`).
    public func nameStoredPacks(_ packs: [IndexedPack]) async throws {
        try recordStoredPacks(packs)
        try await repo.saveIndexDelta(packs)
        // Named: the next checkpoint need not name them again (were it to, a merge keeps one entry).
        let named = Set(packs.map(\.id))
        unnamed.withLock { $0.removeAll { named.contains($0.id) } }
    }

    /// Appends a sealed blob that was claimed; its pack is stored when full.
    /// - Parameters:
    ///   - base: the delta base of a delta-encoded data blob.
    ///   - features: super-features of a data blob stored whole, recorded once its pack is stored.
    public func add(sealed: [UInt8], type: BlobType, id: ChunkID, rawLength: Int, base: ChunkID? = nil, features: [Int64]? = nil) async throws {
        let finished = try await writer.add(sealed: sealed[...], type: type, id: id, rawLength: rawLength, base: base, features: features)
        stats.withLock {
            $0.newBlobs += 1; $0.newRawBytes += UInt64(rawLength)
            if type == .data { $0.newDataRawBytes += UInt64(rawLength) }
        }
        if finished { try await packsHandedOver() }
    }

    /// Stores a metadata blob (tree or list) unless the repository has it.
    public func saveMetadata(_ type: BlobType, _ plaintext: [UInt8]) async throws -> ChunkID {
        // Readers refuse larger blobs (BlobLimits): never store one they would call damage.
        guard plaintext.count <= Int(repo.codec.limits.maximumRawLength(type)) else {
            throw CairnError.invalidArgument("a \(type) blob of \(plaintext.count) bytes is more than the \(repo.codec.limits.maximumRawLength(type)) a reader accepts: a directory with this many entries cannot be stored")
        }
        let id = SHA256.id(plaintext)
        if try claim(id, type: type) {
            try await add(sealed: try repo.codec.seal(plaintext, type: type, id: id), type: type, id: id, rawLength: plaintext.count)
        }
        if type == .tree { try repo.index.cacheTree(id, plaintext) }
        return id
    }

    /// Stores a verified plaintext blob even when the local index says the
    /// repository has it: repair uses this to move blobs out of damaged packs.
    public func storeAgain(_ plaintext: [UInt8], type: BlobType, id: ChunkID) async throws {
        let fresh = pending.withLock { $0.insert(Key(id: id, type: type)).inserted }
        guard fresh else { return }
        try await add(sealed: try repo.codec.seal(plaintext, type: type, id: id), type: type, id: id, rawLength: plaintext.count)
    }

    /// Checkpoints after `checkpointPacks` packs or `checkpointSeconds`, whichever comes first.
    private func packsHandedOver(_ n: Int = 1) async throws {
        packsSinceCheckpoint += n
        if packsSinceCheckpoint >= checkpointPacks || Clock.monotonic() - lastCheckpoint >= checkpointSeconds {
            try await checkpoint()
        }
    }

    /// Stores a finished pack as it is (a `cairn copy` between repositories
    /// sharing their master keys copies the source's packs byte for byte):
    /// claims its blobs, uploads it beside the packs this saver assembles (at
    /// most two in flight) and records it once it is durable, like its own.
    /// `bytes` must hash to `pack.id` (the store may send the name as their checksum).
    public func addFinishedPack(_ bytes: [UInt8], _ pack: IndexedPack) async throws {
        claimEntries(of: pack)
        try await writer.storeFinished(bytes, pack)
        countNewBlobs(of: pack)
        try await packsHandedOver()
    }

    private func claimEntries(of pack: IndexedPack) {
        pending.withLock { set in for e in pack.entries { set.insert(Key(id: e.id, type: e.type)) } }
    }

    private func countNewBlobs(of pack: IndexedPack) {
        stats.withLock {
            for e in pack.entries {
                $0.newBlobs += 1; $0.newRawBytes += UInt64(e.rawLength)
                if e.type == .data { $0.newDataRawBytes += UInt64(e.rawLength) }
            }
        }
    }

    /// Waits until every pack handed over so far is stored and recorded (no index delta is written).
    public func waitForUploads() async throws {
        try await writer.waitForUploads()
    }

    /// Only once a pack is durable is it recorded; then its claims are released.
    private func recordStored(_ pack: IndexedPack, features: [PackWriter.Features]) throws {
        try recordDurable([pack], features: features)
    }

    /// The one way a durable pack is recorded, whoever stored it: kept in this saver's own
    /// record until a checkpoint names it, added to the cache, its claims released.
    private func recordDurable(_ packs: [IndexedPack], features: [PackWriter.Features]) throws {
        unnamed.withLock { $0.append(contentsOf: packs) }
        try repo.index.addPacks(packs, indexed: false)
        try repo.index.addFeatures(features)
        pending.withLock { set in for p in packs { for e in p.entries { set.remove(Key(id: e.id, type: e.type)) } } }
        stats.withLock { for p in packs { $0.packsWritten += 1; $0.packBytes += p.size } }
    }

    /// Waits for uploads and writes an index delta naming every pack this saver
    /// stored since its last checkpoint and every stored pack the cache lists as
    /// named by none, so a rerun after a crash dedups against them.
    public func checkpoint() async throws {
        try await writer.waitForUploads()
        let own = unnamed.withLock { packs in defer { packs.removeAll() }; return packs }
        do {
            try await repo.flushUnindexedPacks(own: own)
        } catch {
            // Still unnamed: a later checkpoint of this saver names them.
            unnamed.withLock { $0.insert(contentsOf: own, at: 0) }
            throw error
        }
        packsSinceCheckpoint = 0
        lastCheckpoint = Clock.monotonic()
    }

    /// Flushes both partial packs, waits for every upload and writes the
    /// final index delta. After this, a snapshot may be committed.
    public func finish() async throws {
        try await writer.flushAll()
        try await checkpoint()
    }

    /// Waits for in-flight uploads without writing anything new (on failure).
    public func abandon() async {
        await writer.abandon()
    }
}

import CairnCrypto
import CairnFormat
import CairnIndex
import CairnRepository
import CairnStorage
import Synchronization

/// Collects sealed blobs into packs (staged in files, so an open pack costs
/// no memory), stores full packs in the background (two in flight), records
/// them in the local index, and writes index checkpoints so an interrupted
/// backup keeps what it stored.
///
/// `claim` may be called from any task; everything else from the one task
/// that runs the archiver's sequential stage.
public final class BlobSaver: @unchecked Sendable {
    private struct Key: Hashable { let id: ChunkID; let type: BlobType }

    let repo: Repository
    private let pending = Mutex<Set<Key>>([])
    /// Packs filling up (`StagedPack`: staged where the store can rename them into place).
    private var open: [PackType: StagedPack] = [:]
    private var uploads: [Task<Void, Error>] = []
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

    public init(repo: Repository) {
        self.repo = repo
    }

    public var currentStats: Stats { stats.withLock { $0 } }

    /// True when the caller is the first to see this blob: it must then seal
    /// and `add` it. False when the repository has it or another task claimed it.
    public func claim(_ id: ChunkID, type: BlobType) throws -> Bool {
        let key = Key(id: id, type: type)
        if pending.withLock({ $0.contains(key) }) { return false }
        if try repo.index.contains(id, type: type) { return false }
        return pending.withLock { $0.insert(key).inserted }
    }

    /// Appends a sealed blob that was claimed; flushes its pack when full.
    /// - Parameters:
    ///   - base: the delta base of a delta-encoded data blob.
    ///   - features: super-features of a data blob stored whole, recorded once its pack is stored.
    public func add(sealed: [UInt8], type: BlobType, id: ChunkID, rawLength: Int, base: ChunkID? = nil, features: [Int64]? = nil) async throws {
        let pt = type.packType
        let pack: StagedPack
        if let p = open[pt] { pack = p } else { pack = try StagedPack(type: pt, repo: repo); open[pt] = pack }
        try pack.append(sealed, type: type, id: id, rawLength: rawLength, base: base)
        if let features { pack.features.append((id, features)) }
        stats.withLock {
            $0.newBlobs += 1; $0.newRawBytes += UInt64(rawLength)
            if type == .data { $0.newDataRawBytes += UInt64(rawLength) }
        }
        if pack.size >= UInt64(repo.config.packSize) { try await flush(pt) }
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

    /// Seals the pack header, names the pack by its SHA-256 and stores it.
    private func flush(_ pt: PackType) async throws {
        guard let pack = open.removeValue(forKey: pt), !pack.entries.isEmpty else { return }
        let (packID, path, size) = try pack.finish(keys: repo.keys)
        let indexed = IndexedPack(id: packID, type: pt, size: size, entries: pack.entries)

        while uploads.count >= 2 { try await uploads.removeFirst().value }
        let features = pack.features.map { FeatureRecord(id: $0.0, features: $0.1) }
        uploads.append(Task {
            try await self.repo.store.putFile(ObjectKey(.data, packID.hex), path: path, coldEligible: pt == .data)
            try self.recordStored(indexed, features: features)
        })
        packsSinceCheckpoint += 1
        if packsSinceCheckpoint >= checkpointPacks || Clock.monotonic() - lastCheckpoint >= checkpointSeconds {
            try await checkpoint()
        }
    }

    /// Stores a finished pack as it is (a `cairn copy` between repositories
    /// sharing their master keys copies the source's packs byte for byte):
    /// claims its blobs, uploads it beside the packs this saver assembles (at
    /// most two in flight) and records it once it is durable, like its own.
    public func addFinishedPack(_ bytes: [UInt8], _ pack: IndexedPack) async throws {
        pending.withLock { set in for e in pack.entries { set.insert(Key(id: e.id, type: e.type)) } }
        while uploads.count >= 2 { try await uploads.removeFirst().value }
        uploads.append(Task {
            try await self.repo.store.put(ObjectKey(.data, pack.id.hex), bytes, coldEligible: pack.type == .data)
            try self.recordStored(pack, features: [])
        })
        stats.withLock {
            for e in pack.entries {
                $0.newBlobs += 1; $0.newRawBytes += UInt64(e.rawLength)
                if e.type == .data { $0.newDataRawBytes += UInt64(e.rawLength) }
            }
        }
        packsSinceCheckpoint += 1
        if packsSinceCheckpoint >= checkpointPacks || Clock.monotonic() - lastCheckpoint >= checkpointSeconds {
            try await checkpoint()
        }
    }

    /// Waits until every pack handed over so far is stored and recorded (no index delta is written).
    public func waitForUploads() async throws {
        for u in uploads { try await u.value }
        uploads.removeAll()
    }

    /// Only once a pack is durable is it recorded; then its claims are released.
    private func recordStored(_ pack: IndexedPack, features: [FeatureRecord]) throws {
        try repo.index.addPacks([pack], indexed: false)
        try repo.index.addFeatures(features.map { ($0.id, $0.features) })
        pending.withLock { set in for e in pack.entries { set.remove(Key(id: e.id, type: e.type)) } }
        stats.withLock { $0.packsWritten += 1; $0.packBytes += pack.size }
    }

    private struct FeatureRecord: Sendable { let id: ChunkID; let features: [Int64] }

    /// Waits for uploads and writes an index delta for every stored pack not
    /// yet named by one, so a rerun after a crash dedups against them.
    public func checkpoint() async throws {
        for u in uploads { try await u.value }
        uploads.removeAll()
        try await repo.flushUnindexedPacks()
        packsSinceCheckpoint = 0
        lastCheckpoint = Clock.monotonic()
    }

    /// Flushes both partial packs, waits for every upload and writes the
    /// final index delta. After this, a snapshot may be committed.
    public func finish() async throws {
        try await flush(.data)
        try await flush(.metadata)
        try await checkpoint()
    }

    /// Waits for in-flight uploads without writing anything new (on failure).
    public func abandon() async {
        for u in uploads { _ = try? await u.value }
        uploads.removeAll()
        for pack in open.values { pack.discard() }
        open.removeAll()
    }
}

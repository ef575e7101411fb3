import CairnCrypto
import CairnFormat
import CairnRepository
import CairnStorage

/// Whole-pack copies: when the destination holds every master key of the
/// source (`cairn init --copy-keys-from`, `cairn copy --share-keys`) and cuts
/// chunks alike, a source pack is valid in the destination byte for byte (its
/// blobs and header open under the same keys), so instead of opening and
/// sealing each blob again a pack that holds only blobs the destination lacks
/// is copied as it is: one read and one write per pack, as `cp` or
/// `aws s3 sync` would, after checking that its bytes hash to its id.
///
/// A pack copied whole may carry blobs of source snapshots that are not being
/// copied (a pack holds what one backup wrote, and later ones deduplicate
/// against it); the destination's prune removes them if nothing there uses them.
extension Copier {
    /// True when source packs are valid destination packs as they are.
    public var copiesWholePacks: Bool {
        sameChunker && destination.keys.holdsEveryKey(of: source.keys)
    }

    /// The largest pack copied whole: it is held in memory between its read and its write.
    static let wholePackLimit: UInt64 = 128 << 20
    /// Packs read at once for whole copies (each at most `wholePackLimit`; packs are 16 MiB by default).
    static let wholePackReads = 3

    /// Copies whole every source pack `batch` draws from that holds only blobs
    /// the destination lacks (each pack is considered once per run); returns
    /// the blobs of `batch` left to copy one by one.
    func copyWholePacks(_ batch: [PendingBlob], saver: BlobSaver, report: inout Report) async throws -> [PendingBlob] {
        var candidates: [PackID] = []
        for blob in batch where wholePacksTried.insert(blob.location.pack).inserted { candidates.append(blob.location.pack) }
        guard !candidates.isEmpty else { return batch }
        let copied = if let local = localPacks {
            try await copyWholePacksLocally(candidates, local: local, saver: saver, report: &report)
        } else {
            try await copyWholePacksInMemory(candidates, saver: saver, report: &report)
        }
        return copied.isEmpty ? batch : batch.filter { !copied.contains($0.location.pack) }
    }

    /// Each pack read whole into memory and handed to the saver (a store not on local disk).
    private func copyWholePacksInMemory(_ candidates: [PackID], saver: BlobSaver, report: inout Report) async throws -> Set<PackID> {
        let source = self.source
        var copied = Set<PackID>()
        try await withThrowingTaskGroup(of: (bytes: [UInt8], pack: IndexedPack)?.self) { group in
            var next = 0
            func launch() {
                guard next < candidates.count else { return }
                let id = candidates[next]; next += 1
                group.addTask { try await Self.readWholePack(id, from: source) }
            }
            for _ in 0..<Self.wholePackReads { launch() }
            while let read = try await group.next() {
                guard let read else { launch(); continue }
                if try await fitsWhole(read.pack, saver: saver) {
                    try await saver.addFinishedPack(read.bytes, read.pack)
                    copied.insert(read.pack.id)
                    countWhole(read.pack, report: &report)
                }
                launch()
            }
        }
        return copied
    }

    /// Each pack copied by the kernel into the destination's staging directory,
    /// hashed there, and stored in batches (`LocalPackCopier`): both stores on local disk.
    private func copyWholePacksLocally(_ candidates: [PackID], local: LocalPackCopier, saver: BlobSaver, report: inout Report) async throws -> Set<PackID> {
        let source = self.source, limit = Self.wholePackLimit
        var copied = Set<PackID>()
        try await withThrowingTaskGroup(of: LocalPackCopier.Staged?.self) { group in
            var next = 0
            func launch() {
                guard next < candidates.count else { return }
                let id = candidates[next]; next += 1
                group.addTask {
                    let key = ObjectKey(.data, id.hex)
                    guard let size = try await source.store.size(key) else { throw CairnError.missingPack(id.hex) }
                    guard size <= limit, let path = source.store.localPath(key) else { return nil }
                    return try await BlockingIO.run { try local.stage(id, size: size, path: path, keys: source.keys) }
                }
            }
            for _ in 0..<Self.wholePackReads { launch() }
            while let staged = try await group.next() {
                guard let staged else { launch(); continue }
                if try await fitsWhole(staged.pack, saver: saver) {
                    saver.reserve(staged.pack)
                    try await local.add(staged, saver: saver)
                    copied.insert(staged.pack.id)
                    countWhole(staged.pack, report: &report)
                }
                launch()
            }
        }
        return copied
    }

    /// `wholeFit` is `fits`, once the packs this copy is still storing count.
    private func fitsWhole(_ pack: IndexedPack, saver: BlobSaver) async throws -> Bool {
        var fit = try wholeFit(pack)
        if fit == .basesNotStored {
            // A base may be in a pack this copy is still storing: once stored, it counts.
            try await localPacks?.drain(saver: saver)
            try await saver.waitForUploads()
            fit = try wholeFit(pack)
        }
        return fit == .fits
    }

    private func countWhole(_ pack: IndexedPack, report: inout Report) {
        report.packsCopiedWhole += 1
        report.blobsCopied += pack.entries.count
        progress.add(bytes: Int(pack.entries.reduce(UInt64(0)) { $0 + UInt64($1.rawLength) }))
    }

    /// Reads pack `id` whole and its header; nil when it is too large to copy
    /// whole or its bytes do not hash to its id (then its blobs are copied one
    /// by one, each proven good or reported damaged on its own).
    static func readWholePack(_ id: PackID, from source: Repository) async throws -> (bytes: [UInt8], pack: IndexedPack)? {
        let key = ObjectKey(.data, id.hex)
        guard let size = try await source.store.size(key) else { throw CairnError.missingPack(id.hex) }
        guard size <= wholePackLimit, size >= UInt64(PackTrailer.length) else { return nil }
        let bytes: [UInt8]
        do { bytes = try await source.store.get(key) } catch StorageError.notFound { throw CairnError.missingPack(id.hex) }
        guard UInt64(bytes.count) == size, SHA256.packID(bytes) == id else { return nil }
        guard let range = try? PackTrailer.sealedHeaderRange(tail: Array(bytes[(bytes.count - PackTrailer.length)...]), packSize: size, what: "pack \(id.hex)"),
              let plain = try? source.keys.openPackHeader(Array(bytes[Int(range.lowerBound)..<Int(range.upperBound)])),
              let header = try? PackHeader.decode(plain, dataLength: range.lowerBound)
        else { return nil }
        return (bytes, IndexedPack(id: id, type: header.type, size: size, entries: header.entries))
    }

    /// Whether a pack may be stored in the destination as it is.
    enum WholeFit: Equatable {
        case fits
        /// Empty, or the destination has some of its blobs (a whole copy would store them twice).
        case blobsPresent
        /// A delta in it has a base that is neither stored whole in the pack itself nor in the destination.
        case basesNotStored
    }

    /// `fits` when the destination has none of the pack's blobs and the base
    /// of each delta in it is stored whole in the pack itself or already in
    /// the destination: never a delta whose base the destination lacks,
    /// whenever the copy is killed (bases are recorded, and so indexed,
    /// before the packs that need them).
    func wholeFit(_ pack: IndexedPack) throws -> WholeFit {
        guard !pack.entries.isEmpty else { return .blobsPresent }
        for type in Set(pack.entries.map(\.type)) {
            let ids = pack.entries.filter { $0.type == type }.map(\.id)
            if try destination.index.contains(ids, type: type).contains(true) { return .blobsPresent }
        }
        let wholeHere = Set(pack.entries.lazy.filter { $0.type == .data && $0.base == nil }.map(\.id))
        for e in pack.entries {
            guard let base = e.base, !wholeHere.contains(base) else { continue }
            guard let there = try destination.index.lookup(base, type: .data), there.base == nil else { return .basesNotStored }
        }
        return .fits
    }
}

import CairnCrypto
import CairnFormat
import CairnRepository
import CairnStorage
import CairnSystem
#if canImport(Glibc)
import Glibc
#endif

/// Whole-pack copies: when the destination holds every master key of the
/// source (`cairn init --copy-keys-from`, `cairn copy --share-keys`) and cuts
/// chunks alike, a source pack is valid in the destination byte for byte (its
/// blobs and header open under the same keys), so instead of opening and
/// sealing each blob again a pack that holds only blobs the destination lacks
/// is copied as it is: one read and one write per pack, as `cp` or
/// `aws s3 sync` would, after checking that its bytes hash to its id.
///
/// The packs are read ahead of the walk: a pack is read (and, for a store
/// with a staging directory, written there) in a task of its own as soon as
/// the walk first needs one of its blobs, up to `wholePackReads` at once,
/// while the walk goes on; its blobs wait beside it until it is settled:
/// stored whole, or (when it does not fit) copied one by one.
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
    /// Packs read ahead of the walk at once (each at most `wholePackLimit`; packs are 16 MiB by default).
    static let wholePackReads = 4

    /// A source pack read for a whole copy: its bytes, or the destination's
    /// staging file they were written to.
    struct WholePackRead: Sendable {
        let pack: IndexedPack
        let bytes: [UInt8]
        let staged: String?
    }

    /// The packs of this run considered for a whole copy, and what became of them.
    struct WholePacks {
        /// Every pack considered (each is read once a run).
        var tried = Set<PackID>()
        /// Reads under way, oldest first.
        var reads: [(pack: PackID, task: Task<WholePackRead?, any Error>)] = []
        /// Blobs the walk needs from packs still being read.
        var waiting: [PackID: [PendingBlob]] = [:]
        var copied = Set<PackID>()
        /// Packs whose blobs are copied one by one.
        var notWhole = Set<PackID>()
    }

    /// Starts a whole copy of every pack `batch` first draws from; returns the
    /// blobs to copy one by one now (those of packs found not to fit). Blobs
    /// of packs still being read wait for `settleWholePack`.
    func copyWholePacks(_ batch: [PendingBlob], saver: BlobSaver, report: inout Report) async throws -> [PendingBlob] {
        var now: [PendingBlob] = []
        for blob in batch {
            let pack = blob.location.pack
            if wholePacks.notWhole.contains(pack) || wholePacks.copied.contains(pack) { now.append(blob); continue }
            if wholePacks.tried.insert(pack).inserted {
                while wholePacks.reads.count >= Self.wholePackReads { now += try await settleWholePack(saver: saver, report: &report) }
                startWholePackRead(pack)
            }
            wholePacks.waiting[pack, default: []].append(blob)
        }
        return now
    }

    /// Settles every whole-pack read under way; returns the blobs left to copy one by one.
    func drainWholePacks(saver: BlobSaver, report: inout Report) async throws -> [PendingBlob] {
        var out: [PendingBlob] = []
        while !wholePacks.reads.isEmpty { out += try await settleWholePack(saver: saver, report: &report) }
        return out
    }

    /// Waits for the reads under way and removes what they staged (a copy that failed).
    func abandonWholePacks() async {
        for read in wholePacks.reads {
            if let staged = (try? await read.task.value)??.staged { unlink(staged) }
        }
        wholePacks.reads.removeAll()
        wholePacks.waiting.removeAll()
    }

    private func startWholePackRead(_ id: PackID) {
        let source = self.source
        let staging = destination.store.stagingDirectory, modes = destination.store.stagingModes
        wholePacks.reads.append((id, Task { try await Self.readWholePack(id, from: source, stagingIn: staging, modes: modes) }))
    }

    /// The oldest read: its pack stored whole when it fits, else its blobs returned to be copied one by one.
    private func settleWholePack(saver: BlobSaver, report: inout Report) async throws -> [PendingBlob] {
        let (id, task) = wholePacks.reads.removeFirst()
        let blobs = wholePacks.waiting.removeValue(forKey: id) ?? []
        guard let read = try await task.value else {
            wholePacks.notWhole.insert(id)
            return blobs
        }
        var fit = try wholeFit(read.pack)
        if fit == .basesNotStored {
            // A base may be in a pack this saver is still storing: once stored, it counts.
            try await saver.waitForUploads()
            fit = try wholeFit(read.pack)
        }
        guard fit == .fits else {
            if let staged = read.staged { unlink(staged) }
            wholePacks.notWhole.insert(id)
            return blobs
        }
        if let staged = read.staged {
            try await saver.addStagedPack(staged, read.pack)
        } else {
            try await saver.addFinishedPack(read.bytes, read.pack)
        }
        wholePacks.copied.insert(id)
        report.packsCopiedWhole += 1
        report.blobsCopied += read.pack.entries.count
        progress.add(bytes: Int(read.pack.entries.reduce(UInt64(0)) { $0 + UInt64($1.rawLength) }))
        return []
    }

    /// Reads pack `id` whole and its header, and writes it to a staging file
    /// in `stagingIn` when given; nil when it is too large to copy whole or
    /// its bytes do not hash to its id (then its blobs are copied one by one,
    /// each proven good or reported damaged on its own).
    static func readWholePack(_ id: PackID, from source: Repository, stagingIn: String?, modes: FileModes) async throws -> WholePackRead? {
        let key = ObjectKey(.data, id.hex)
        guard let size = try await source.store.size(key) else { throw CairnError.missingPack(id.hex) }
        guard size <= wholePackLimit, size >= UInt64(PackTrailer.length) else { return nil }
        if let stagingIn, let path = source.store.localPath(key) {
            return try await BlockingIO.run { try streamWholePack(id, size: size, path: path, keys: source.keys, stagingIn: stagingIn, modes: modes) }
        }
        let bytes: [UInt8]
        do { bytes = try await source.store.get(key) } catch StorageError.notFound { throw CairnError.missingPack(id.hex) }
        guard UInt64(bytes.count) == size, SHA256.packID(bytes) == id,
              let header = try? openHeader(id, size: size, keys: source.keys, read: { Array(bytes[Int($0.lowerBound)..<Int($0.upperBound)]) })
        else { return nil }
        let pack = IndexedPack(id: id, type: header.type, size: size, entries: header.entries)
        guard let stagingIn else { return WholePackRead(pack: pack, bytes: bytes, staged: nil) }
        let staged = try await BlockingIO.run {
            let file = try StagingFile(directory: stagingIn, prefix: "pack", modes: modes)
            do {
                try file.append(bytes)
                try file.close()
            } catch { file.discard(); throw error }
            return file.path
        }
        return WholePackRead(pack: pack, bytes: [], staged: staged)
    }

    /// Bytes of a local pack read, hashed and written at a time: small enough
    /// to stay in the processor's cache between the read and the write (a
    /// 16 MiB buffer passed whole cost six times the kernel time, each copy
    /// missing the cache).
    static let streamPiece = 256 << 10

    /// A pack in a local file copied into a staging file a piece at a time,
    /// hashed on the way (never held whole in memory); nil, and no staging
    /// file, when its bytes do not hash to its id or its header does not open.
    static func streamWholePack(_ id: PackID, size: UInt64, path: String, keys: Keyring, stagingIn: String, modes: FileModes) throws -> WholePackRead? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw CairnError.missingPack(id.hex) }
            throw CairnError.io("\(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let file = try StagingFile(directory: stagingIn, prefix: "pack", modes: modes)
        var kept = false
        defer { if !kept { file.discard() } }
        var hasher = SHA256Hasher()
        var piece = [UInt8](repeating: 0, count: streamPiece)
        var offset: UInt64 = 0
        while offset < size {
            let want = Int(min(UInt64(piece.count), size - offset))
            let n = try piece.withUnsafeMutableBytes { try FileDescriptorIO.preadFull(fd, into: UnsafeMutableRawBufferPointer(rebasing: $0[..<want]), at: offset) }
            guard n == want else { return nil }  // shorter than its size: not the pack its name promises
            try piece.withUnsafeBytes { b in
                let part = UnsafeRawBufferPointer(rebasing: b[..<n])
                hasher.update(part)
                try file.append(part)
            }
            offset += UInt64(n)
        }
        guard PackID(bytes: hasher.finalize()) == id,
              let header = try? openHeader(id, size: size, keys: keys, read: { range in
                  var out = [UInt8](repeating: 0, count: Int(range.count))
                  let n = try out.withUnsafeMutableBytes { try FileDescriptorIO.preadFull(fd, into: $0, at: range.lowerBound) }
                  guard n == out.count else { throw CairnError.io("\(path): short read") }
                  return out
              })
        else { return nil }
        try file.close()
        kept = true
        return WholePackRead(pack: IndexedPack(id: id, type: header.type, size: size, entries: header.entries), bytes: [], staged: file.path)
    }

    /// The header of a pack of `size` bytes, its ranges read by `read`.
    private static func openHeader(_ id: PackID, size: UInt64, keys: Keyring, read: (Range<UInt64>) throws -> [UInt8]) throws -> PackHeader {
        let tail = try read((size - UInt64(PackTrailer.length))..<size)
        let range = try PackTrailer.sealedHeaderRange(tail: tail, packSize: size, what: "pack \(id.hex)")
        let plain = try keys.openPackHeader(try read(range))
        return try PackHeader.decode(plain, dataLength: range.lowerBound)
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

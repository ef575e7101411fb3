import CLinuxShims
import CairnCrypto
import CairnFormat
import CairnRepository
import CairnStorage
import CairnSystem
#if canImport(Glibc)
import Glibc
#endif

/// Whole packs copied from a store on local disk into another (`Copier+WholePacks`
/// when both repositories share their master keys), the way `cp -r` and a
/// `sync` would, at the cost of one SHA-256 more: each pack is read a piece
/// at a time into a buffer of its own, the piece hashed there (the copy must
/// hash to its name) and written from there into the destination's `tmp/`,
/// its whole blocks past the page cache (O_DIRECT where the file system
/// allows it: no copy into new page-cache pages, nor the page cache to make
/// room for them). The packs are made durable and named in batches: every
/// file of a batch synced at once, then all renamed into `data/`, then each
/// directory synced, then all recorded in the cache in one transaction and
/// named in an index delta. Up to two batches are made durable in the
/// background while the next is staged.
///
/// Complete-or-absent as every local put: a pack is renamed into place only
/// once synced, and recorded and named by an index delta only once renamed
/// and its directory synced. A copy killed at any instant leaves staging
/// files the next writer removes (their names say whose they are) and, at
/// most, packs in `data/` that no index names yet; a resumed copy copies
/// those again under the same name, byte for byte alike.
/// Copy-only: a backup's packs never go through here.
final class LocalPackCopier: @unchecked Sendable {
    /// A source pack copied into a staging file, its bytes proven to hash to its id.
    /// Its file is removed when it goes unstored (ARC: a failed or cancelled copy leaves none).
    final class Staged: @unchecked Sendable {
        fileprivate(set) var pack: IndexedPack
        let path: String
        let final: String
        private let token: UInt64
        fileprivate var stored = false

        init(pack: IndexedPack, path: String, final: String, token: UInt64) {
            self.pack = pack; self.path = path; self.final = final; self.token = token
        }

        deinit {
            if !stored { unlink(path) }
            Interruption.shared.unregister(token)
        }
    }

    /// Packs a batch makes durable together at most (16 MiB packs: 256 MiB a batch). The first
    /// batches are smaller (1, 2, 4, ...), so a copy killed early has stored packs a resumed one reuses.
    static let batchPacks = 16
    private var batchLimit = 1
    /// Bytes read, hashed and written at a time: hashed and written while still in the processor's cache.
    static let piece = 1 << 20
    /// What direct writes are aligned to (offset, length and buffer): a page, a multiple of every
    /// common device block. A file system that wants more refuses (EINVAL): the page cache then.
    static let blockAlignment = 4096
    /// Threads for a batch's syncs: a sync that waits for the disk needs no core.
    private static let syncThreads = BlockingThreads(threads: 8, label: "cairn.copy.sync")

    /// Whole blocks written past the page cache (O_DIRECT) where the file system allows it;
    /// false writes everything through the page cache (tests take both ways).
    var directWrites = true
    /// One buffer per pack being staged, reused: a fresh allocation per pack would be fresh pages to fault in.
    private let buffers = AlignedBufferPool(size: piece, alignment: blockAlignment)

    private let staging: String
    private let modes: FileModes
    private let destination: any ObjectStore
    private var batch: [Staged] = []
    /// Batches being made durable, recorded and named, oldest first.
    private var storing: [Task<Void, Error>] = []
    /// Batches stored at once at most: the walk stages the next batch meanwhile.
    static let batchesInFlight = 2

    /// A copier for `destination`, or nil when either store is not on local disk.
    init?(source: any ObjectStore, destination: any ObjectStore) {
        let probe = ObjectKey(.data, String(repeating: "0", count: 64))
        guard let staging = destination.stagingDirectory, source.localPath(probe) != nil, destination.localPath(probe) != nil else { return nil }
        self.staging = staging
        self.modes = destination.stagingModes
        self.destination = destination
        // A copy killed before leaves its staging files (up to two batches); they go now, not
        // when a command next locks the destination (only a writer that is gone: its name says whose).
        LocalStore.removeStaleFiles(in: staging)
    }

    /// Copies pack `id` of `size` bytes from the file at `path` into a staging
    /// file; nil (and no staging file) when the copy does not hash to `id` or
    /// its header does not open (its blobs are then copied one by one, each
    /// proven good or reported damaged on its own).
    func stage(_ id: PackID, size: UInt64, path: String, keys: Keyring) throws -> Staged? {
        try Interruption.shared.checkNotInterrupted()
        guard let final = destination.localPath(ObjectKey(.data, id.hex)) else { return nil }
        try modes.makeDirectory(staging)
        let name = "\(staging)/" + TemporaryFileName.make(prefix: "copy-\(id.hex.prefix(16))")
        let token = Interruption.shared.register("temporary file", .unlink(name))
        let out: Int32
        do { out = try modes.createFile(name) } catch { Interruption.shared.unregister(token); throw error }
        // From here the file is the Staged's: removed unless stored.
        let staged = Staged(pack: IndexedPack(id: id, type: .data, size: size, entries: []), path: name, final: final, token: token)
        defer { Glibc.close(out) }
        let input = open(path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else {
            if errno == ENOENT { throw CairnError.missingPack(id.hex) }
            throw CairnError.io("\(path): \(String(cString: strerror(errno)))")
        }
        defer { Glibc.close(input) }
        guard size >= UInt64(PackTrailer.length), size <= UInt64(Int.max) else { return nil }
        // Whole blocks go from the buffer to the disk (O_DIRECT) where the file system allows it.
        let direct = directWrites ? cairn_open_direct(name) : -1
        defer { if direct >= 0 { Glibc.close(direct) } }
        let buffer = buffers.take()
        defer { buffers.give(buffer) }
        guard try copyAndHash(size: Int(size), from: input, path: path, to: out, direct: direct >= 0 ? direct : nil, buffer: buffer.bytes, name: name) == .some(id) else {
            return nil
        }
        let back = open(name, O_RDONLY | O_CLOEXEC)
        guard back >= 0 else { throw Self.ioError(name) }
        defer { Glibc.close(back) }
        guard let header = try? Self.openHeader(id, size: size, of: back, keys: keys) else { return nil }
        try Interruption.shared.checkNotInterrupted()
        staged.pack = IndexedPack(id: id, type: header.type, size: size, entries: header.entries)
        return staged
    }

    /// Copies `size` bytes a piece at a time through `buffer`: each piece read
    /// from the source, hashed there (still in the processor's cache) and
    /// written from there, its whole blocks through `direct` (O_DIRECT: no
    /// copy into the page cache, and no page cache to make room for) and the
    /// rest through `out`; the SHA-256 of exactly the bytes written, or nil
    /// when the source is shorter than `size`.
    private func copyAndHash(size: Int, from input: Int32, path: String, to out: Int32, direct: Int32?, buffer: UnsafeMutableRawBufferPointer,
                             name: String) throws -> PackID? {
        var hasher = SHA256Hasher()
        var direct = direct
        var offset = 0
        while offset < size {
            let want = min(buffer.count, size - offset)
            let piece = UnsafeMutableRawBufferPointer(rebasing: buffer[..<want])
            let n: Int
            do { n = try FileDescriptorIO.preadFull(input, into: piece, at: UInt64(offset)) } catch { throw CairnError.io("\(path): \(error)") }
            guard n == want else { return nil }  // shorter than its size: not the pack its name promises
            hasher.update(UnsafeRawBufferPointer(piece))
            var written = 0
            if let fd = direct {
                let blocks = want & ~(Self.blockAlignment - 1)
                do {
                    if blocks > 0 { try FileDescriptorIO.pwriteAll(fd, UnsafeRawBufferPointer(rebasing: piece[..<blocks]), at: UInt64(offset)) }
                    written = blocks
                } catch let e as Errno where e.code == EINVAL {
                    direct = nil  // blocks larger than ours, or no direct writes after all: the page cache from here
                } catch let e as Errno { throw Self.ioError(name, e.code) }
            }
            do {
                try FileDescriptorIO.pwriteAll(out, UnsafeRawBufferPointer(rebasing: piece[written...]), at: UInt64(offset + written))
            } catch { throw Self.ioError(name, Errno.code(of: error)) }
            offset += want
        }
        return PackID(bytes: hasher.finalize())
    }

    /// The header of the pack written to `fd` (the staging file, read back as it is on disk).
    private static func openHeader(_ id: PackID, size: UInt64, of fd: Int32, keys: Keyring) throws -> PackHeader {
        func read(_ range: Range<UInt64>) throws -> [UInt8] {
            var bytes = [UInt8](repeating: 0, count: Int(range.upperBound - range.lowerBound))
            let n = try bytes.withUnsafeMutableBytes { try FileDescriptorIO.preadFull(fd, into: $0, at: range.lowerBound) }
            guard n == bytes.count else { throw FormatError.truncated(what: "pack \(id.hex)") }
            return bytes
        }
        let range = try PackTrailer.sealedHeaderRange(tail: try read((size - UInt64(PackTrailer.length))..<size), packSize: size, what: "pack \(id.hex)")
        return try PackHeader.decode(try keys.openPackHeader(try read(range)), dataLength: range.lowerBound)
    }

    /// Adds a staged pack whose blobs `saver` has reserved; once a batch's
    /// worth wait, they are made durable, recorded and named in the
    /// background (after the batches before them are).
    func add(_ staged: Staged, saver: BlobSaver) async throws {
        batch.append(staged)
        if batch.count >= batchLimit {
            batchLimit = min(Self.batchPacks, batchLimit * 2)
            try await startStoring(saver: saver)
        }
    }

    /// Makes every staged pack durable, named and recorded; returns once they are.
    func drain(saver: BlobSaver) async throws {
        try await startStoring(saver: saver)
        while !storing.isEmpty { try await storing.removeFirst().value }
    }

    /// Waits for the batches being stored and drops the staged packs (their files go with them): on failure.
    func abandon() async {
        for task in storing { _ = try? await task.value }
        storing.removeAll()
        batch.removeAll()
    }

    /// Hands the batch to the background, once fewer than `batchesInFlight` are being stored.
    private func startStoring(saver: BlobSaver) async throws {
        guard !batch.isEmpty else { return }
        while storing.count >= Self.batchesInFlight { try await storing.removeFirst().value }
        let files = batch
        batch.removeAll()
        let modes = self.modes, previous = storing.last
        storing.append(Task {
            // In order: a batch is stored only once the one before it is, and none after a failure.
            if let previous { try await previous.value }
            try await Self.store(files, modes: modes)
            // Named here, not at the saver's next checkpoint: an index delta's sync (which waits
            // for the writeback of every pack staged since) never holds up the walk.
            try await saver.nameStoredPacks(files.map(\.pack))
        })
    }

    /// Every file synced at once, then all renamed into place, then each directory synced at once.
    private static func store(_ files: [Staged], modes: FileModes) async throws {
        let threads = syncThreads
        try await withThrowingTaskGroup(of: Void.self) { group in
            for f in files {
                let path = f.path
                group.addTask { try await threads.run { try syncFile(path) } }
            }
            try await group.waitForAll()
        }
        var directories: [String] = []
        for f in files {
            let dir = String(f.final[..<(f.final.lastIndex(of: "/") ?? f.final.endIndex)])
            try modes.makeDirectory(dir)
            guard rename(f.path, f.final) == 0 else { throw ioError(f.final) }
            f.stored = true
            if !directories.contains(dir) { directories.append(dir) }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for dir in directories { group.addTask { try await threads.run { try syncFile(dir, directory: true) } } }
            try await group.waitForAll()
        }
    }

    private static func syncFile(_ path: String, directory: Bool = false) throws {
        let fd = open(path, (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC)
        guard fd >= 0 else { throw ioError(path) }
        defer { Glibc.close(fd) }
        if fsync(fd) != 0 && !(directory && errno == EINVAL) { throw ioError(path) }
    }

    /// The failed call's `errno` for `path`, as a local store reports it.
    private static func ioError(_ path: String, _ code: Int32 = errno) -> StorageError {
        switch code {
        case ENOENT: return .notFound(path)
        case ENOSPC, EDQUOT: return .diskFull(path)
        case EACCES, EPERM, EROFS: return .permissionDenied(path)
        default: return .io(path, String(cString: strerror(code)))
        }
    }
}

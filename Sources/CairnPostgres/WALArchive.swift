import CairnCrypto
import CairnEngine
import CairnRepository
import CairnFormat
import CairnIndex
import CairnSystem
#if canImport(Glibc)
import Glibc
#endif

/// PostgreSQL's WAL archive inside a Cairn repository.
///
/// Each archived file is one stream snapshot of the WAL name (default
/// `pg-wal`), chunked with the `wal` profile, with `extra` keys
/// `pg-wal-file` (the name PostgreSQL gave), `pg-wal-sha256`, `pg-wal-size`
/// and, for segments, `pg-system-id` and `pg-wal-segment-size` read from the
/// segment's long page header. The snapshot commit is the single atomic
/// step, so a push killed at any point leaves no half-archived file. Lookups go
/// through the cache's indexed snapshot attributes (the `extra` facts, by key,
/// name and value: `WALCatalogRow.query`), filled when a snapshot is loaded.
public final class WALArchive: Sendable {
    public let repo: Repository
    public let name: String

    public init(repo: Repository, name: String) { self.repo = repo; self.name = name }

    /// The `extra` keys of a WAL snapshot.
    public enum Key {
        public static let file = Snapshot.ExtraKey.pgWALFile.rawValue
        public static let sha256 = Snapshot.ExtraKey.pgWALSHA256.rawValue
        public static let size = Snapshot.ExtraKey.pgWALSize.rawValue
        public static let systemID = Snapshot.ExtraKey.pgSystemID.rawValue
        public static let segmentSize = "pg-wal-segment-size"
    }

    /// Every archived WAL file, ordered by name then archive time.
    public func entries() throws -> [WALCatalogRow] {
        let index = repo.index
        return try index.snapshots(WALCatalogRow.query(name: name), fields: WALCatalogRow.fields).map { WALCatalogRow($0, index: index) }
    }

    /// The archived copies of one file (normally zero or one): an indexed lookup.
    public func lookup(_ file: String) throws -> [WALCatalogRow] {
        let index = repo.index
        return try index.snapshots(WALCatalogRow.query(name: name, file: file), fields: WALCatalogRow.fields).map { WALCatalogRow($0, index: index) }
    }

    /// A full segment's name: 24 hexadecimal digits (history, backup and partial files have other names).
    static let segmentGlob = String(repeating: "[0-9A-F]", count: 24)

    /// How many files the archive holds and its newest full segment, without reading every row.
    /// The count is of the snapshots naming a WAL file, one range of the attribute index: requiring
    /// their hash too (as `lookup` does) would probe the index once per archived file, a cost that
    /// grows with history (Docs/performance.md, "Cache schema 6"), and every push records both.
    public func summary() throws -> (files: Int, newestSegment: WALCatalogRow?) {
        let index = repo.index
        let files = try index.snapshotCount(AttributeQuery(name: name, key: Key.file))
        let newest = try index.newestSnapshot(WALCatalogRow.query(name: name, valueGlob: Self.segmentGlob), fields: WALCatalogRow.fields)
        return (files, newest.map { WALCatalogRow($0, index: index) })
    }

    // MARK: push

    /// What a push did.
    public enum PushOutcome: Sendable, Equatable {
        /// Stored as a new snapshot.
        case stored(snapshotID: String)
        /// The same content was archived already; nothing written.
        case alreadyArchived
    }

    /// Archives the file at `path` under `fileName`. Returns only after the
    /// snapshot is durably committed. Identical content already archived:
    /// `.alreadyArchived`; different content: throws `conflictingWAL` (history
    /// files, and every other file, are never overwritten).
    public func push(path: String, fileName: String) async throws -> PushOutcome {
        guard let wal = WALFileName(fileName) else { throw PostgresError.badWALName(fileName) }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw PostgresError.other("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let (sha, size, header) = try Self.hash(fd: fd, path: path)
        let existing = try lookup(fileName)
        if existing.contains(where: { $0.sha256 == sha }) { return .alreadyArchived }
        if let other = existing.first { throw PostgresError.conflictingWAL(file: fileName, archived: other.sha256, pushed: sha) }
        guard lseek(fd, 0, SEEK_SET) == 0 else { throw PostgresError.other("cannot rewind \(path)") }
        var options = BackupOptions(name: name)
        options.profile = ChunkerProfileName.wal
        options.extra = [Key.file: fileName, Key.sha256: sha, Key.size: String(size), "pg-wal-kind": wal.kind.rawValue]
        if wal.kind == .segment || wal.kind == .partial, let h = header {
            options.extra[Key.systemID] = String(h.systemID)
            options.extra[Key.segmentSize] = String(h.segmentSize)
        }
        let result = try await Archiver(repo: repo, options: options).backup(streamFD: fd, label: fileName)
        return .stored(snapshotID: result.snapshotID)
    }

    /// The read-only half of a push: `.alreadyArchived` when the same content is
    /// archived, nil when the file is not archived yet; throws `conflictingWAL`
    /// for different content. Needs no lock.
    public func check(path: String, fileName: String) throws -> PushOutcome? {
        guard WALFileName(fileName) != nil else { throw PostgresError.badWALName(fileName) }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw PostgresError.other("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let (sha, _, _) = try Self.hash(fd: fd, path: path)
        let existing = try lookup(fileName)
        if existing.contains(where: { $0.sha256 == sha }) { return .alreadyArchived }
        if let other = existing.first { throw PostgresError.conflictingWAL(file: fileName, archived: other.sha256, pushed: sha) }
        return nil
    }

    /// SHA-256 and size of a file, and the long page header of a segment.
    static func hash(fd: Int32, path: String) throws -> (String, UInt64, WALSegmentHeader?) {
        var hasher = SHA256Hasher()
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        var total: UInt64 = 0
        var header: WALSegmentHeader? = nil
        while true {
            let n: Int
            do { n = try buf.withUnsafeMutableBytes { (b) in try FileDescriptorIO.read(fd, into: b) } } catch {
                throw PostgresError.other("cannot read \(path): \(error)")
            }
            if n == 0 { break }
            if total == 0 { header = WALSegmentHeader(Array(buf[0..<n])) }
            buf.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            total += UInt64(n)
        }
        return (Hex.encode(hasher.finalize()), total, header)
    }

    // MARK: fetch

    /// Writes the archived file `fileName` to `destination` atomically
    /// (temporary name, fsync, rename) after checking its SHA-256. Returns
    /// false only when the archive (as just synced from the store) does not
    /// hold the file; every other failure throws.
    public func fetch(_ fileName: String, to destination: String) async throws -> Bool {
        let rows = try lookup(fileName)
        guard let row = rows.last else { return false }
        if Set(rows.map(\.sha256)).count > 1 {
            throw PostgresError.other("\(fileName) is archived \(rows.count) times with different content; resolve it by hand (cairn snapshots --json, look for pg-wal-file)")
        }
        let tmp = destination + ".cairn-tmp"
        try await restoreChecked(row, into: tmp, sync: true)
        guard rename(tmp, destination) == 0 else {
            let e = String(cString: strerror(errno))
            unlink(tmp)
            throw PostgresError.other("cannot rename \(tmp) to \(destination): \(e)")
        }
        return true
    }

    /// Restores the archived file of `row` into a new file `tmp` and checks it against the SHA-256
    /// the snapshot recorded; on any failure `tmp` is removed and the error thrown. `sync`: fsync it.
    func restoreChecked(_ row: WALCatalogRow, into tmp: String, sync: Bool) async throws {
        try await restoring(row, into: tmp) { restorer, fd in
            _ = try await restorer.restoreSingleFile(to: fd)
            if sync { guard fsync(fd) == 0 else { throw PostgresError.other("cannot sync \(tmp): \(String(cString: strerror(errno)))") } }
            guard lseek(fd, 0, SEEK_SET) == 0 else { throw PostgresError.other("cannot rewind \(tmp)") }
            return try Self.hash(fd: fd, path: tmp).0
        }
    }

    /// Restores the archived file of `row` into a new file `tmp` for the spool in one pass: hashed as
    /// it is written, all-zero chunks left as holes (the unused tail of a segment closed early by
    /// archive_timeout is zeros: nothing to write), checked against the SHA-256 the snapshot recorded.
    /// Not synced: the spool's copy is hashed again when it is served. On failure `tmp` is removed.
    func restoreSparse(_ row: WALCatalogRow, into tmp: String) async throws {
        try await restoring(row, into: tmp) { restorer, fd in
            let writer = SparseWriter(fd: fd, path: tmp)
            _ = try await restorer.restoreSingleFile { try writer.append($0) }
            return try writer.finish()
        }
    }

    /// The one restore of `row` into a new file `tmp`: `body` writes it through the snapshot's
    /// restorer and returns the SHA-256 of what it wrote, which must be the one the snapshot
    /// recorded. On any failure (`body`'s, or another SHA-256) `tmp` is removed and the error thrown.
    private func restoring(_ row: WALCatalogRow, into tmp: String,
                           _ body: (Restorer, Int32) async throws -> String) async throws {
        guard let id = SnapshotID(hex: row.snapshotID), let record = try repo.snapshot(id: id) else {
            throw PostgresError.other("snapshot \(row.snapshotID.prefix(8)) of \(row.file) is not in the cache")
        }
        let fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw PostgresError.other("cannot create \(tmp): \(String(cString: strerror(errno)))") }
        do {
            let sha = try await body(Restorer(repo: repo, snapshot: record), fd)
            guard sha == row.sha256 else {
                throw PostgresError.other("\(row.file) restored with SHA-256 \(sha.prefix(16))…, archived as \(row.sha256.prefix(16))…")
            }
            close(fd)
        } catch {
            close(fd)
            unlink(tmp)
            throw error
        }
    }

    /// Fetches the files in parallel (best effort: a file that fails is left out), each into `directory/NAME`.
    /// Returns the names written.
    public func prefetch(_ names: [String], into directory: String) async -> [String] {
        await withTaskGroup(of: String?.self) { group in
            for n in names {
                group.addTask {
                    let dest = directory + "/" + n
                    if access(dest, F_OK) == 0 { return n }
                    return (try? await self.fetch(n, to: dest)) == true ? n : nil
                }
            }
            var out: [String] = []
            for await n in group { if let n { out.append(n) } }
            return out.sorted()
        }
    }
}

/// The long page header at the start of every WAL segment
/// (`XLogLongPageHeaderData`): magic, timeline, system identifier, segment size.
public struct WALSegmentHeader: Sendable, Equatable {
    public var magic: UInt16
    public var timeline: UInt32
    public var systemID: UInt64
    public var segmentSize: UInt32
    public var blockSize: UInt32

    /// Parses the first 40 bytes; nil unless the long-header flag is set and the sizes are plausible.
    public init?(_ b: [UInt8]) {
        guard b.count >= 40 else { return nil }
        func u16(_ o: Int) -> UInt16 { UInt16(b[o]) | UInt16(b[o + 1]) << 8 }
        func u32(_ o: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(b[o + $1]) << (8 * $1) } }
        func u64(_ o: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(b[o + $1]) << (8 * $1) } }
        let info = u16(2)
        guard info & 0x0002 != 0 else { return nil }  // XLP_LONG_HEADER
        magic = u16(0); timeline = u32(4); systemID = u64(24); segmentSize = u32(32); blockSize = u32(36)
        guard segmentSize >= 1 << 20, segmentSize <= 1 << 30, segmentSize.nonzeroBitCount == 1 else { return nil }
    }
}

/// Writes a file from its chunks in order, hashing them, with all-zero chunks left as holes.
final class SparseWriter {
    let fd: Int32
    let path: String
    private var hasher: SHA256Hasher? = SHA256Hasher()
    private var offset: off_t = 0
    /// The last chunk found all zero: the repository hands the same buffer for every repeat of a
    /// run of zeros, and the same buffer is not scanned again.
    private var zeroChunk: [UInt8] = []

    init(fd: Int32, path: String) { self.fd = fd; self.path = path }

    func append(_ chunk: [UInt8]) throws {
        hasher?.update(chunk)
        if !isKnownZero(chunk) {
            if Self.isZero(chunk) {
                zeroChunk = chunk
            } else {
                do { try chunk.withUnsafeBytes { try FileDescriptorIO.pwriteAll(fd, $0, at: UInt64(offset)) } } catch {
                    throw PostgresError.other("cannot write \(path): \(error)")
                }
            }
        }
        offset += off_t(chunk.count)
    }

    /// True when `chunk` is the very buffer last found all zero (arrays are copy-on-write: the same
    /// storage holds the same bytes).
    private func isKnownZero(_ chunk: [UInt8]) -> Bool {
        guard !chunk.isEmpty, chunk.count == zeroChunk.count else { return false }
        return chunk.withUnsafeBufferPointer { a in zeroChunk.withUnsafeBufferPointer { b in a.baseAddress == b.baseAddress } }
    }

    /// Sets the length (a trailing hole) and returns the SHA-256 of everything appended.
    func finish() throws -> String {
        guard ftruncate(fd, offset) == 0 else { throw PostgresError.other("cannot size \(path): \(String(cString: strerror(errno)))") }
        guard let h = hasher.take() else { throw PostgresError.other("\(path) was finished twice") }
        return Hex.encode(h.finalize())
    }

    static func isZero(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { b in
            let words = b.count / 8
            for i in 0..<words where b.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self) != 0 { return false }
            for i in (words * 8)..<b.count where b[i] != 0 { return false }
            return true
        }
    }
}

import CairnFormat
import CairnRepository
import CairnStorage
import CSysXattr
import CairnSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Materialises a snapshot: a tree into a directory, or one file to a file
/// descriptor. Every chunk's SHA-256 is checked before its bytes are written;
/// a file whose content cannot be proven is removed and the restore fails
/// naming the snapshot and path.
public struct Restorer: Sendable {
    let repo: Repository
    let record: SnapshotRecord
    public let progress: WorkProgress
    /// Chunks fetched in parallel by the single-file reader (streams, tar).
    public var window = 32
    /// How much of a tree restore one plan holds (`RestorePlan`).
    var planLimits = RestorePlan.Limits()
    /// Plans of a tree restore read and written at once (the walk prepares
    /// the next while they run).
    public var plansInFlight = 2
    /// Spans of packs read at once, by all plans together (each up to
    /// `RestorePlan.spanLimit`: this bounds the restore's memory).
    public var packsInFlight = 4
    /// Threads writing the small files of a tree restore: creating a file
    /// mostly waits on the file system, so more of them than cores.
    public var writerThreads = 8
    /// Hard links made to one restored file before the rest become copies (a
    /// test stands in for a file system's link limit with it; the real limit
    /// answers EMLINK).
    var linksPerFile = Int.max
    /// When set, every restored entry gets this owner instead of the
    /// snapshot's (set through descriptors like the rest; a data directory
    /// restored as root belongs to the PostgreSQL user of this machine).
    public var owner: (uid: UInt32, gid: UInt32)? = nil

    public init(repo: Repository, snapshot: SnapshotRecord, progress: WorkProgress = WorkProgress()) {
        self.repo = repo; self.record = snapshot; self.progress = progress
        progress.update { $0.bytesTotal = snapshot.snapshot.logicalBytes }
    }

    /// Outcome of a restore.
    public struct Result: Sendable {
        public var files: UInt64 = 0
        public var directories: UInt64 = 0
        public var bytes: UInt64 = 0
        /// Entries that matched an include (or all restored entries when there is none).
        public var selected: UInt64 = 0
        public var warnings: [String] = []
    }

    /// A tree of the snapshot; failure names the snapshot and the directory.
    func tree(_ id: ChunkID, path: String) async throws -> Tree {
        do { return try await repo.loadTree(id) } catch {
            throw CairnError.restoreFailed(snapshot: String(record.id.prefix(8)), path: path, reason: describe(error))
        }
    }

    /// Writes the single file of a stream snapshot (or a one-file snapshot) to `fd`.
    public func restoreSingleFile(to fd: Int32) async throws -> UInt64 {
        let node = try await singleFile()
        // readContentWindows proves the length equals the node's.
        try await readContentWindows(of: node, path: node.displayName) { chunks in
            try writeAll(fd, chunks[...], path: "standard output")
        }
        return node.size
    }

    /// Hands the single file of a stream snapshot (or a one-file snapshot) to `sink`, in order.
    public func restoreSingleFile(sink: ([UInt8]) throws -> Void) async throws -> UInt64 {
        let node = try await singleFile()
        // readContent proves the length equals the node's.
        try await readContent(of: node, path: node.displayName, sink: sink)
        return node.size
    }

    /// The one file of a stream snapshot or of a tree snapshot of one file (at
    /// its full path: the directories on the way each hold only the next one).
    private func singleFile() async throws -> Node {
        var level = try await tree(record.snapshot.root, path: "/")
        var path = ""
        while SnapshotFacts.hasFullPaths(record.snapshot.extra), level.nodes.count == 1, let d = level.nodes.first,
              d.kind == .directory, let sub = d.subtree {
            path += "/" + d.displayName
            level = try await tree(sub, path: path)
        }
        guard level.nodes.count == 1, let node = level.nodes.first, node.kind == .file else {
            throw CairnError.invalidArgument("snapshot \(record.id.prefix(8)) holds a directory tree, not one stream or file: use --target DIR")
        }
        return node
    }

    /// True when every byte is zero (checked eight bytes at a time).
    static func isZero(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { b in
            let words = b.count / 8
            for i in 0..<words where b.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self) != 0 { return false }
            for i in (words * 8)..<b.count where b[i] != 0 { return false }
            return !b.isEmpty
        }
    }

    /// A file time as the kernel takes it (seconds, non-negative nanoseconds).
    static func timespec(_ t: FileTime) -> timespec {
        Glibc.timespec(tv_sec: Int(t.seconds), tv_nsec: Int(t.nanoseconds))
    }
}

/// Writes every byte or throws; `path` names the destination in messages.
public func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
    try bytes.withUnsafeBytes { b in
        do { try FileDescriptorIO.writeAll(fd, b) } catch {
            if Errno.code(of: error) == ENOSPC { throw CairnError.io("no space left on the device while writing \(path)") }
            throw CairnError.io("cannot write \(path): \(error)")
        }
    }
}

/// Writes every byte of `chunks`, in order, a few chunks per `writev` (a
/// window of small chunks is a handful of system calls, not one each);
/// `path` names the destination in messages.
///
/// One call carries at most `writevBytes` (or one larger chunk), not a whole
/// window: large writes cost far more system time per byte copying into the
/// page cache than writes of 64-256 KiB (Docs/performance.md, restore).
func writeAll(_ fd: Int32, _ chunks: ArraySlice<[UInt8]>, path: String) throws {
    try writeAll(fd, chunks, at: nil, path: path)
}

/// `writeAll` of chunks that follow each other in the file from `offset`
/// on (`pwritev`: the file position is not used, so several threads may
/// write one file at different offsets); nil: at the file position.
func writeAll(_ fd: Int32, _ chunks: ArraySlice<[UInt8]>, at offset: UInt64?, path: String) throws {
    var start = chunks.startIndex, position = offset
    while start < chunks.endIndex {
        var end = start, bytes = 0
        while end < chunks.endIndex, end == start || bytes + chunks[end].count <= writevBytes {
            bytes += chunks[end].count
            end += 1
        }
        try writeGroup(fd, chunks[start..<end], at: position, path: path)
        position? += UInt64(bytes)
        start = end
    }
}

/// Bytes per `writev` call of `writeAll`.
let writevBytes = 64 << 10

/// One `writev` (`pwritev` at `offset` when given; repeated on partial writes) of `chunks`.
private func writeGroup(_ fd: Int32, _ chunks: ArraySlice<[UInt8]>, at offset: UInt64?, path: String) throws {
    var iov: [iovec] = []
    iov.reserveCapacity(chunks.count)
    try withPinned(chunks, &iov) { iov in
        do { try FileDescriptorIO.writevAll(fd, &iov, at: offset) } catch {
            if Errno.code(of: error) == ENOSPC { throw CairnError.io("no space left on the device while writing \(path)") }
            throw CairnError.io("cannot write \(path): \(error)")
        }
    }
}

/// Calls `body` with an iovec per chunk, every chunk's storage borrowed for
/// the call (one nested `withUnsafeBytes` per chunk: no pointer escapes).
private func withPinned(_ chunks: ArraySlice<[UInt8]>, _ iov: inout [iovec], _ body: (inout [iovec]) throws -> Void) throws {
    guard let head = chunks.first else { return try body(&iov) }
    try head.withUnsafeBytes { b in
        if b.count > 0 { iov.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: b.baseAddress), iov_len: b.count)) }
        try withPinned(chunks.dropFirst(), &iov, body)
    }
}

/// A file's identity at backup time: entries sharing it were hard links.
struct HardLinkKey: Hashable, Sendable {
    let device: UInt64
    let inode: UInt64
}

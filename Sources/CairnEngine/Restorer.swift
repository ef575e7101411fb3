import CairnFormat
import CairnStorage
import CSysXattr
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
    /// Chunks fetched in parallel per file.
    public var window = 32

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
        /// The first restored path of each backed-up inode.
        var hardLinks: [HardLinkKey: BytePath] = [:]
        public var warnings: [String] = []
    }

    /// Restores the snapshot (or only the paths under `include`) into `target`.
    ///
    /// Up to `concurrentFiles` files are written at once (each with its own
    /// bounded window of chunks), so a tree of many files keeps every core
    /// busy. What must come after a file is written comes after all of them:
    /// hard links to it, then each directory's metadata, deepest first (a
    /// directory's mtime would move with every file renamed into it).
    ///
    /// Failures are reported as a one-at-a-time restore would: the first
    /// failing file in walk order. When a file fails, files after it stop
    /// (their temporary files removed), files before it run to their end.
    public func restore(to target: String, include: [String] = []) async throws -> Result {
        try FileSystem.makeDirectories(target)
        let root = try await tree(record.snapshot.root, path: "/")
        var walk = TreeWalk(includes: include.map { $0.split(separator: "/").map { Array($0.utf8) } })
        let stop = FailedFile()
        var walkError: (any Error)? = nil
        await withTaskGroup(of: FileResult.self) { group in
            do {
                try await restoreTree(root, into: BytePath(target), relative: [], walk: &walk, group: &group, stop: stop)
            } catch is StopWalk {
            } catch {
                walkError = error
            }
            while let done = await group.next() { walk.absorb(done, stop: stop) }
        }
        if let failure = walk.failure { throw failure.error }
        if let walkError { throw walkError }
        for pending in walk.links {
            _ = pending.path.withCString { unlink($0) }
            if pending.first.withCString({ f in pending.path.withCString { link(f, $0) } }) == 0 {
                walk.result.files += 1
                continue
            }
            // Not linkable here (another file system, say): a copy of its own.
            let done = try await restoreFileWithMetadata(pending.node, path: pending.path, display: pending.display, index: 0, stop: nil)
            walk.result.files += 1
            walk.result.bytes += done.bytes
            walk.result.warnings += done.warnings
        }
        for dir in walk.directories {
            walk.result.warnings += applyMetadata(dir.node, path: dir.path)
            walk.result.directories += 1
        }
        return walk.result
    }

    /// Files restored at once by `restore(to:)`.
    public var concurrentFiles = 4

    /// State of one tree restore's walk.
    private struct TreeWalk {
        let includes: [[[UInt8]]]
        var result = Result()
        /// Files started (their walk order) and still running.
        var started = 0
        var running = 0
        /// The first failed file in walk order.
        var failure: (index: Int, error: CairnError)?
        /// Hard links to files restored earlier in the walk, made once every file is written.
        var links: [(node: Node, path: BytePath, first: BytePath, display: String)] = []
        /// Directories whose metadata is set at the end, children before parents.
        var directories: [(node: Node, path: BytePath)] = []

        init(includes: [[[UInt8]]]) { self.includes = includes }

        mutating func absorb(_ done: FileResult, stop: FailedFile) {
            running -= 1
            switch done {
            case .restored(let outcome):
                result.files += 1
                result.bytes += outcome.bytes
                result.warnings += outcome.warnings
            case .failed(let index, let error):
                if failure.map({ index < $0.index }) ?? true { failure = (index, error) }
                stop.record(index)
            }
        }
    }

    /// A file restored by the task group.
    private struct FileOutcome: Sendable {
        let bytes: UInt64
        let warnings: [String]
    }

    /// What a file task hands back: failures are values, so that one file's
    /// error does not cancel the files before it (the group would cancel all).
    private enum FileResult: Sendable {
        case restored(FileOutcome)
        case failed(index: Int, error: CairnError)
    }

    /// Ends the walk once a file has failed: no more files are started.
    private struct StopWalk: Error {}

    /// The walk order of the first failed file, read by the running files:
    /// those after it stop at their next window.
    final class FailedFile: Sendable {
        private let first = Mutex(Int.max)
        func record(_ index: Int) { first.withLock { $0 = min($0, index) } }
        /// Throws when a file before `index` has failed.
        func check(_ index: Int) throws {
            if first.withLock({ $0 }) < index { throw CancellationError() }
        }
    }

    /// A tree of the snapshot; failure names the snapshot and the directory.
    private func tree(_ id: ChunkID, path: String) async throws -> Tree {
        do { return try await repo.loadTree(id) } catch {
            throw CairnError.restoreFailed(snapshot: String(record.id.prefix(8)), path: path, reason: describe(error))
        }
    }

    /// Writes the single file of a stream snapshot (or a one-file snapshot) to `fd`.
    public func restoreSingleFile(to fd: Int32) async throws -> UInt64 {
        let root = try await tree(record.snapshot.root, path: "/")
        guard root.nodes.count == 1, let node = root.nodes.first, node.kind == .file else {
            throw CairnError.invalidArgument("snapshot \(record.id.prefix(8)) holds a directory tree, not one stream or file: use --target DIR")
        }
        // readContentWindows proves the length equals the node's.
        try await readContentWindows(of: node, path: node.displayName) { chunks in
            try writeAll(fd, chunks[...], path: "standard output")
        }
        return node.size
    }

    /// Hands the single file of a stream snapshot (or a one-file snapshot) to `sink`, in order.
    public func restoreSingleFile(sink: ([UInt8]) throws -> Void) async throws -> UInt64 {
        let root = try await tree(record.snapshot.root, path: "/")
        guard root.nodes.count == 1, let node = root.nodes.first, node.kind == .file else {
            throw CairnError.invalidArgument("snapshot \(record.id.prefix(8)) holds a directory tree, not one stream or file: use --target DIR")
        }
        // readContent proves the length equals the node's.
        try await readContent(of: node, path: node.displayName, sink: sink)
        return node.size
    }

    private func selected(_ rel: [[UInt8]], _ includes: [[[UInt8]]]) -> (take: Bool, descend: Bool) {
        if includes.isEmpty { return (true, true) }
        var descend = false
        for inc in includes {
            if rel.count >= inc.count && Array(rel.prefix(inc.count)) == inc { return (true, true) }
            if rel.count < inc.count && Array(inc.prefix(rel.count)) == rel { descend = true }
        }
        return (false, descend)
    }

    private func restoreTree(_ tree: Tree, into dir: BytePath, relative: [[UInt8]], walk: inout TreeWalk,
                             group: inout TaskGroup<FileResult>, stop: FailedFile) async throws {
        for node in tree.nodes {
            let rel = relative + [node.name]
            let (take, descend) = selected(rel, walk.includes)
            guard take || (descend && node.kind == .directory) else { continue }
            if take { walk.result.selected += 1 }
            let path = dir.appending(node.name)
            let display = "/" + rel.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "/")
            switch node.kind {
            case .directory:
                if path.withCString({ mkdir($0, 0o700) }) != 0 && errno != EEXIST {
                    throw CairnError.io("cannot create \(path): \(FileMetadata.errorText())")
                }
                guard let sub = node.subtree else { continue }
                try await restoreTree(try await self.tree(sub, path: display), into: path, relative: rel, walk: &walk, group: &group, stop: stop)
                walk.directories.append((node, path))
            case .symlink:
                _ = path.withCString { unlink($0) }
                let ok = BytePath(bytes: node.linkTarget).withCString { target in path.withCString { symlink(target, $0) } }
                if ok != 0 { throw CairnError.io("cannot create symlink \(path): \(FileMetadata.errorText())") }
                walk.result.warnings += applyMetadata(node, path: path)
            case .file:
                // Entries that shared an inode when backed up were hard links: restore them as one.
                let inode = node.inode != 0 ? HardLinkKey(device: node.device, inode: node.inode) : nil
                if let inode, let first = walk.result.hardLinks[inode] {
                    walk.links.append((node, path, first, display))
                    continue
                }
                if let inode { walk.result.hardLinks[inode] = path }
                // Bounded: wait for one file to finish before starting another.
                if walk.running >= max(1, concurrentFiles), let done = await group.next() { walk.absorb(done, stop: stop) }
                guard walk.failure == nil else { throw StopWalk() }
                let index = walk.started
                walk.started += 1
                walk.running += 1
                group.addTask {
                    do {
                        return .restored(try await self.restoreFileWithMetadata(node, path: path, display: display, index: index, stop: stop))
                    } catch let e as CairnError {
                        return .failed(index: index, error: e)
                    } catch {
                        return .failed(index: index, error: .other(describe(error)))
                    }
                }
            }
        }
    }

    /// Restores one file and sets its metadata; stops early when `stop` reports a failed file before `index`.
    private func restoreFileWithMetadata(_ node: Node, path: BytePath, display: String, index: Int, stop: FailedFile?) async throws -> FileOutcome {
        try await restoreFile(node, path: path, relativeName: String(display.dropFirst()), index: index, stop: stop)
        return FileOutcome(bytes: node.size, warnings: applyMetadata(node, path: path))
    }

    /// Writes to a temporary name beside the target and renames only when every
    /// chunk was verified and the length matches.
    private func restoreFile(_ node: Node, path: BytePath, relativeName: String, index: Int, stop: FailedFile?) async throws {
        let tmp = path.withSuffix(".cairn-restore")
        let fd = tmp.withCString { open($0, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600) }
        guard fd >= 0 else { throw CairnError.io("cannot create \(tmp): \(FileMetadata.errorText())") }
        var written: UInt64 = 0
        do {
            try await ContentReader(repo: repo, window: window).readWindows(node.content) { chunks in
                try stop?.check(index)
                // Runs of data chunks go out in one writev; a chunk of zeros
                // becomes a hole: sparse files come back sparse.
                var start = 0
                for (i, chunk) in chunks.enumerated() where Self.isZero(chunk) {
                    try writeAll(fd, chunks[start..<i], path: path.description)
                    guard lseek(fd, off_t(chunk.count), SEEK_CUR) >= 0 else { throw CairnError.io("cannot seek in \(path): \(FileMetadata.errorText())") }
                    start = i + 1
                }
                try writeAll(fd, chunks[start...], path: path.description)
                let bytes = chunks.reduce(0) { $0 + UInt64($1.count) }
                written += bytes
                progress.update { $0.bytesDone += bytes }
            }
            guard written == node.size else { throw CairnError.other("restored \(written) bytes, snapshot records \(node.size)") }
            // Sets the length when the file ends in a hole.
            guard ftruncate(fd, off_t(written)) == 0 else { throw CairnError.io("cannot set the length of \(path): \(FileMetadata.errorText())") }
            let syncError = await BlockingIO.run { fsync(fd) == 0 ? 0 : errno }
            guard syncError == 0 || syncError == EINVAL else { throw CairnError.io("cannot sync \(path): \(String(cString: strerror(syncError)))") }
            close(fd)
            guard tmp.withCString({ t in path.withCString { rename(t, $0) } }) == 0 else { throw CairnError.io("cannot rename into \(path): \(FileMetadata.errorText())") }
        } catch {
            close(fd)
            _ = tmp.withCString { unlink($0) }
            throw CairnError.restoreFailed(snapshot: String(record.id.prefix(8)), path: relativeName, reason: describe(error))
        }
        progress.update { $0.filesDone += 1 }
    }

    /// Sets owner, mode, extended attributes and times; returns what could not be set.
    private func applyMetadata(_ node: Node, path: BytePath) -> [String] {
        var warnings: [String] = []
        path.withCString { p in
            if geteuid() == 0, lchown(p, node.uid, node.gid) != 0 {
                warnings.append("\(path): cannot set owner: \(FileMetadata.errorText())")
            }
            if node.kind != .symlink, chmod(p, mode_t(node.mode)) != 0 {
                warnings.append("\(path): cannot set mode: \(FileMetadata.errorText())")
            }
            for x in node.xattrs {
                let ok = x.value.withUnsafeBytes { v in
                    BytePath(bytes: x.name).withCString { lsetxattr(p, $0, v.baseAddress, v.count, 0) }
                }
                if ok != 0 { warnings.append("\(path): cannot set extended attribute \(String(decoding: x.name, as: UTF8.self)): \(FileMetadata.errorText())") }
            }
            let t = Self.timespec(nanos: node.mtimeNanos)
            var times = [t, t]
            if utimensat(AT_FDCWD, p, &times, AT_SYMLINK_NOFOLLOW) != 0 {
                warnings.append("\(path): cannot set times: \(FileMetadata.errorText())")
            }
        }
        return warnings
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

    /// Splits nanoseconds since the epoch with a non-negative nanosecond part,
    /// as the kernel requires (times before 1970 are negative).
    static func timespec(nanos: Int64) -> timespec {
        var sec = nanos / 1_000_000_000, nsec = nanos % 1_000_000_000
        if nsec < 0 { sec -= 1; nsec += 1_000_000_000 }
        return Glibc.timespec(tv_sec: Int(sec), tv_nsec: Int(nsec))
    }
}

/// Writes every byte or throws; `path` names the destination in messages.
public func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
    try bytes.withUnsafeBytes { b in
        var off = 0
        while off < b.count {
            let n = write(fd, b.baseAddress! + off, b.count - off)
            if n < 0 {
                if errno == EINTR { continue }
                if errno == ENOSPC { throw CairnError.io("no space left on the device while writing \(path)") }
                throw CairnError.io("cannot write \(path): \(FileMetadata.errorText())")
            }
            off += n
        }
    }
}

/// Writes every byte of `chunks`, in order, a few chunks per `writev` (a
/// window of small chunks is a handful of system calls, not one each);
/// `path` names the destination in messages.
///
/// One call carries at most `writevBytes` (or one larger chunk), not a whole
/// window: on the benchmark VM (Linux 6.18) 2 MiB writes cost three to ten
/// times the system time of the same bytes in 64-256 KiB writes, all in
/// copying into the page cache (measured with Python's writev as well as
/// here; presumably the larger page-cache folios a large write gets).
func writeAll(_ fd: Int32, _ chunks: ArraySlice<[UInt8]>, path: String) throws {
    var start = chunks.startIndex
    while start < chunks.endIndex {
        var end = start, bytes = 0
        while end < chunks.endIndex, end == start || bytes + chunks[end].count <= writevBytes {
            bytes += chunks[end].count
            end += 1
        }
        try writeGroup(fd, chunks[start..<end], path: path)
        start = end
    }
}

/// Bytes per `writev` call of `writeAll`.
let writevBytes = 64 << 10

/// One `writev` (repeated on partial writes) of `chunks`.
private func writeGroup(_ fd: Int32, _ chunks: ArraySlice<[UInt8]>, path: String) throws {
    var iov: [iovec] = []
    iov.reserveCapacity(chunks.count)
    try withPinned(chunks, &iov) { iov in
        var first = 0
        while first < iov.count {
            let n = iov[first...].withUnsafeBufferPointer { writev(fd, $0.baseAddress, Int32(min($0.count, 1024))) }
            // (1024 is Linux's IOV_MAX, which Glibc does not export to Swift.)
            if n < 0 {
                if errno == EINTR { continue }
                if errno == ENOSPC { throw CairnError.io("no space left on the device while writing \(path)") }
                throw CairnError.io("cannot write \(path): \(FileMetadata.errorText())")
            }
            // Skip what was written; a partial write leaves the rest of one iovec.
            var left = n
            while first < iov.count, left >= iov[first].iov_len { left -= iov[first].iov_len; first += 1 }
            if left > 0 {
                iov[first].iov_base += left
                iov[first].iov_len -= left
            }
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

import CairnFormat
import CSysXattr
#if canImport(Glibc)
import Glibc
#endif

/// Materialises a snapshot: a tree into a directory, or one file to a file
/// descriptor. Every chunk's SHA-256 is checked before its bytes are written;
/// a file whose content cannot be proven is removed and the restore fails
/// naming the snapshot and path.
public struct Restorer {
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
    public func restore(to target: String, include: [String] = []) async throws -> Result {
        try FileSystem.makeDirectories(target)
        let root = try await tree(record.snapshot.root, path: "/")
        var result = Result()
        let includes = include.map { $0.split(separator: "/").map { Array($0.utf8) } }
        try await restoreTree(root, into: BytePath(target), relative: [], includes: includes, result: &result)
        return result
    }

    /// A tree of the snapshot; failure names the snapshot and the directory.
    private func tree(_ id: ChunkID, path: String) async throws -> Tree {
        do { return try await repo.loadTree(id) } catch {
            throw CairnError.restoreFailed(snapshot: String(record.id.prefix(8)), path: path, reason: describe(error))
        }
    }

    /// Writes the single file of a stream snapshot (or a one-file snapshot) to `fd`.
    public func restoreSingleFile(to fd: Int32) async throws -> UInt64 {
        try await restoreSingleFile { chunk in try writeAll(fd, chunk, path: "standard output") }
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

    private func restoreTree(_ tree: Tree, into dir: BytePath, relative: [[UInt8]], includes: [[[UInt8]]], result: inout Result) async throws {
        for node in tree.nodes {
            let rel = relative + [node.name]
            let (take, descend) = selected(rel, includes)
            guard take || (descend && node.kind == .directory) else { continue }
            if take { result.selected += 1 }
            let path = dir.appending(node.name)
            let display = "/" + rel.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "/")
            switch node.kind {
            case .directory:
                if path.withCString({ mkdir($0, 0o700) }) != 0 && errno != EEXIST {
                    throw CairnError.io("cannot create \(path): \(FileMetadata.errorText())")
                }
                guard let sub = node.subtree else { continue }
                try await restoreTree(try await self.tree(sub, path: display), into: path, relative: rel, includes: includes, result: &result)
                applyMetadata(node, path: path, result: &result)
                result.directories += 1
            case .symlink:
                _ = path.withCString { unlink($0) }
                let ok = BytePath(bytes: node.linkTarget).withCString { target in path.withCString { symlink(target, $0) } }
                if ok != 0 { throw CairnError.io("cannot create symlink \(path): \(FileMetadata.errorText())") }
                applyMetadata(node, path: path, result: &result)
            case .file:
                // Entries that shared an inode when backed up were hard links: restore them as one.
                let inode = node.inode != 0 ? HardLinkKey(device: node.device, inode: node.inode) : nil
                if let inode, let first = result.hardLinks[inode] {
                    _ = path.withCString { unlink($0) }
                    if first.withCString({ f in path.withCString { link(f, $0) } }) == 0 {
                        result.files += 1
                        continue
                    }
                }
                try await restoreFile(node, path: path, relativeName: String(display.dropFirst()))
                applyMetadata(node, path: path, result: &result)
                if let inode { result.hardLinks[inode] = path }
                result.files += 1
                result.bytes += node.size
            }
        }
    }

    /// Writes to a temporary name beside the target and renames only when every
    /// chunk was verified and the length matches.
    private func restoreFile(_ node: Node, path: BytePath, relativeName: String) async throws {
        let tmp = path.withSuffix(".cairn-restore")
        let fd = tmp.withCString { open($0, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600) }
        guard fd >= 0 else { throw CairnError.io("cannot create \(tmp): \(FileMetadata.errorText())") }
        var written: UInt64 = 0
        do {
            try await ContentReader(repo: repo, window: window).read(node.content) { chunk in
                // A chunk of zeros becomes a hole: sparse files come back sparse.
                if Self.isZero(chunk) {
                    guard lseek(fd, off_t(chunk.count), SEEK_CUR) >= 0 else { throw CairnError.io("cannot seek in \(path): \(FileMetadata.errorText())") }
                } else {
                    try writeAll(fd, chunk, path: path.description)
                }
                written += UInt64(chunk.count)
                progress.update { $0.bytesDone += UInt64(chunk.count) }
            }
            guard written == node.size else { throw CairnError.other("restored \(written) bytes, snapshot records \(node.size)") }
            // Sets the length when the file ends in a hole.
            guard ftruncate(fd, off_t(written)) == 0 else { throw CairnError.io("cannot set the length of \(path): \(FileMetadata.errorText())") }
            guard fsync(fd) == 0 || errno == EINVAL else { throw CairnError.io("cannot sync \(path): \(FileMetadata.errorText())") }
            close(fd)
            guard tmp.withCString({ t in path.withCString { rename(t, $0) } }) == 0 else { throw CairnError.io("cannot rename into \(path): \(FileMetadata.errorText())") }
        } catch {
            close(fd)
            _ = tmp.withCString { unlink($0) }
            throw CairnError.restoreFailed(snapshot: String(record.id.prefix(8)), path: relativeName, reason: describe(error))
        }
        progress.update { $0.filesDone += 1 }
    }

    private func applyMetadata(_ node: Node, path: BytePath, result: inout Result) {
        path.withCString { p in
            if geteuid() == 0, lchown(p, node.uid, node.gid) != 0 {
                result.warnings.append("\(path): cannot set owner: \(FileMetadata.errorText())")
            }
            if node.kind != .symlink, chmod(p, mode_t(node.mode)) != 0 {
                result.warnings.append("\(path): cannot set mode: \(FileMetadata.errorText())")
            }
            for x in node.xattrs {
                let ok = x.value.withUnsafeBytes { v in
                    BytePath(bytes: x.name).withCString { lsetxattr(p, $0, v.baseAddress, v.count, 0) }
                }
                if ok != 0 { result.warnings.append("\(path): cannot set extended attribute \(String(decoding: x.name, as: UTF8.self)): \(FileMetadata.errorText())") }
            }
            let t = Self.timespec(nanos: node.mtimeNanos)
            var times = [t, t]
            if utimensat(AT_FDCWD, p, &times, AT_SYMLINK_NOFOLLOW) != 0 {
                result.warnings.append("\(path): cannot set times: \(FileMetadata.errorText())")
            }
        }
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

/// A file's identity at backup time: entries sharing it were hard links.
struct HardLinkKey: Hashable, Sendable {
    let device: UInt64
    let inode: UInt64
}

import CairnCrypto
import CairnFormat
import CairnRepository
#if canImport(Glibc)
import Glibc
#endif

/// `cairn backup --dry-run`: what a backup of these paths would read and
/// roughly how much would be new, with nothing written to the repository
/// (no packs, no snapshot, no index change, no lock). Walks the arguments with
/// the backup's selection (`BackupOptions.leavesOut`); a file whose size,
/// mtime, ctime and inode match the previous snapshot of the name would not be
/// read; any other file is read, cut and hashed, and its chunks looked up in
/// the index. New bytes are plaintext bytes before compression.
public final class BackupDryRun {
    let repo: Repository
    let options: BackupOptions
    public let progress: WorkProgress

    /// What the backup would do.
    public struct Estimate: Sendable {
        public var files: UInt64 = 0, directories: UInt64 = 0, others: UInt64 = 0
        /// Bytes of every file (the snapshot's logical size).
        public var bytes: UInt64 = 0
        /// Files a backup would read (the others are unchanged since the previous snapshot).
        public var filesToRead: UInt64 = 0
        public var bytesToRead: UInt64 = 0
        public var unchangedFiles: UInt64 = 0
        /// Plaintext bytes of chunks the repository lacks (each distinct chunk once).
        public var newBytes: UInt64 = 0
        public var newChunks: UInt64 = 0
        /// Entries that could not be read (as a backup would warn).
        public var warnings: [String] = []
    }

    private var estimate = Estimate()
    private var names = NameCache()
    /// Chunks found new so far: a chunk met twice is new once. Grows with new data only.
    private var seenNew = Set<ChunkID>()
    private var topDevice: UInt64 = 0

    public init(repo: Repository, options: BackupOptions, progress: WorkProgress = WorkProgress()) {
        self.repo = repo; self.options = options; self.progress = progress
    }

    public func run(paths: [String]) async throws -> Estimate {
        let chunker = try repo.chunker(profile: options.profile ?? ChunkerProfileName.file)
        let parent = try repo.snapshots(name: options.name).filter { $0.snapshot.sourceKind == .tree }.last
        for p in paths {
            var trimmed = p
            while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
            let path = BytePath(trimmed)
            guard let st = FileMetadata.lstat(path) else {
                if errno == ENOENT { throw CairnError.pathNotFound(p) }
                throw CairnError.io("cannot read \(p): \(FileMetadata.errorText())")
            }
            topDevice = UInt64(st.st_dev)
            var previous: Node? = nil
            if let parent { previous = try await previousNode(for: trimmed, in: parent) }
            try await visit(path, st: st, previous: previous, chunker: chunker, relative: [])
        }
        return estimate
    }

    /// The argument's node in the previous snapshot: recorded under its full
    /// path, or (snapshots of earlier versions) under its last component.
    private func previousNode(for path: String, in record: SnapshotRecord) async throws -> Node? {
        let browser = SnapshotBrowser(repo: repo)
        let absolute = path.hasPrefix("/") ? path : (currentDirectory() + "/" + path)
        for candidate in [absolute, path] {
            let components = candidate.split(separator: "/").map { Array($0.utf8) }
            if !components.isEmpty, let n = try await browser.node(at: components, in: record) { return n }
        }
        if let last = path.split(separator: "/").last, let n = try await browser.node(at: [Array(last.utf8)], in: record) { return n }
        return nil
    }

    private func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private func visit(_ path: BytePath, st: stat, previous: Node?, chunker: FastCDC, relative: [UInt8]) async throws {
        guard let kind = FileMetadata.kind(st) else { estimate.warnings.append("\(path): a file of unknown type; would be skipped"); return }
        switch kind {
        case .directory:
            guard let entries = FileMetadata.entries(path) else {
                estimate.warnings.append("\(path): cannot read directory: \(FileMetadata.errorText())"); return
            }
            estimate.directories += 1
            var previousTree: Tree? = nil
            if let p = previous, p.kind == .directory, let sub = p.subtree { previousTree = try await repo.loadTree(sub) }
            for e in entries {
                let child = path.appending(e)
                let childRelative = relative.isEmpty ? e : relative + [47] + e
                guard let cst = FileMetadata.lstat(child) else { continue }
                if options.leavesOut(child, relative: childRelative, st: cst, topDevice: topDevice) { continue }
                try await visit(child, st: cst, previous: previousTree?.node(named: e), chunker: chunker, relative: childRelative)
            }
        case .file:
            estimate.files += 1
            let size = UInt64(max(0, st.st_size))
            estimate.bytes += size
            let node = FileMetadata.node(name: [], kind: .file, st: st, names: &names)
            if !options.forceRead, let p = previous, p.kind == .file, p.size == node.size, p.mtime == node.mtime,
               p.ctime == node.ctime, p.inode == node.inode,
               try !repo.index.contains(p.content.ids, type: p.content.level == 0 ? .data : .list).contains(false) {
                estimate.unchangedFiles += 1
                progress.update { $0.bytesDone += size; $0.filesDone += 1 }
                return
            }
            estimate.filesToRead += 1
            try read(path, st: st, chunker: chunker)
            progress.update { $0.filesDone += 1 }
        default:
            estimate.others += 1
        }
    }

    /// Cuts and hashes a file, counting the chunks the index lacks.
    private func read(_ path: BytePath, st: stat, chunker: FastCDC) throws {
        guard case .file(let source) = SourceFile.open(path, scanned: st) else {
            estimate.warnings.append("\(path): cannot open: \(FileMetadata.errorText())"); return
        }
        defer { source.close() }
        let reader = ChunkReader(fd: source.fd, chunker: chunker, path: path.description)
        var pending: [(ChunkID, Int)] = []
        func flush() throws {
            let present = try repo.index.contains(pending.map(\.0), type: .data)
            for ((id, length), here) in zip(pending, present) where !here && seenNew.insert(id).inserted {
                estimate.newBytes += UInt64(length); estimate.newChunks += 1
            }
            pending.removeAll(keepingCapacity: true)
        }
        do {
            while let chunk = try reader.next() {
                estimate.bytesToRead += UInt64(chunk.count)
                progress.update { $0.bytesDone += UInt64(chunk.count) }
                pending.append((SHA256.id(chunk), chunk.count))
                if pending.count >= 256 { try flush() }
            }
            try flush()
        } catch let e as CairnError {
            estimate.warnings.append(e.description)
        }
    }
}

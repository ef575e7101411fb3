import CairnFormat
import CairnStorage
#if canImport(Glibc)
import Glibc
#endif

/// Turns files, directory trees and streams into blobs and a snapshot.
///
/// The pipeline: the next batch is read and cut on a dispatch thread while
/// the previous one is hashed, looked up, compressed and sealed on all cores
/// (`ChunkProcessor`); then, on this task and in input order, new blobs go to
/// packs (`BlobSaver`, stored in the background) and ids to each file's
/// `ContentBuilder`. Memory is bounded by two batches and the read buffer;
/// open packs are staged in files.
public final class Archiver {
    let repo: Repository
    let saver: BlobSaver
    let options: BackupOptions
    public let progress: WorkProgress
    private var processor: ChunkProcessor
    private var names = NameCache()

    private let batchLimit = 4 << 20
    private var batch: [[UInt8]] = []
    private var batchSlots: [Int] = []
    private var batchBytes = 0
    private var inflight: (task: Task<[ChunkProcessor.Result], Error>, slots: [Int])?

    private var builders: [Int: ContentBuilder] = [:]
    /// The last file's read buffer, for the next file.
    private var spareReadBuffer: [UInt8] = []
    private var nextSlot = 0
    private var warnings: [String] = []
    private var unchanged: UInt64 = 0
    /// Files that changed while they were read (size, mtime or ctime differed
    /// after reading them) or were replaced after the scan.
    private var changedDuringBackup: [String] = []
    /// Entries left out of the snapshot (unreadable, or replaced after the scan).
    private var skipped = 0
    /// Arguments of which nothing is in the snapshot.
    private var sourcesMissing = 0
    /// Bytes the last `stream` call read from its descriptor.
    private var lastStreamBytes: UInt64 = 0
    /// The device of the argument being walked, for `BackupOptions.oneFileSystem`.
    private var topDevice: UInt64 = 0
    private var logical: UInt64 = 0
    private var files: UInt64 = 0
    private var directories: UInt64 = 0
    /// Extra facts the `beforeCommit` hook returned; whether it ran already.
    private var addedExtra: [String: String] = [:]
    private var hookRan = false
    /// The chunker profile content is cut with (recorded in the snapshot).
    private var chunkerProfile: String

    public init(repo: Repository, options: BackupOptions, progress: WorkProgress = WorkProgress()) {
        self.repo = repo
        self.options = options
        self.progress = progress
        saver = BlobSaver(repo: repo)
        processor = Self.processor(repo: repo, saver: saver, options: options, profile: options.profile ?? "file")
        chunkerProfile = options.profile ?? "file"
    }

    /// The parallel stage for a chunker profile: delta compression is on by
    /// default for database dumps and RDB files, where changes are scattered.
    private static func processor(repo: Repository, saver: BlobSaver, options: BackupOptions, profile: String) -> ChunkProcessor {
        var codec = repo.codec
        if let level = options.compressionLevel { codec.level = level }
        return ChunkProcessor(codec: codec, saver: saver, delta: options.delta ?? ChunkProcessor.deltaByDefault(profile: profile))
    }

    // MARK: entry points

    /// Backs up files and directories. With `BackupOptions.fullPaths` (the
    /// default) each argument is stored at its absolute path (relative ones
    /// resolved against the working directory) and `Snapshot.paths` records
    /// those; otherwise each argument is an entry of the root named by its last
    /// path component.
    public func backup(paths given: [String]) async throws -> BackupResult {
        let started = Clock.monotonic()
        let paths = options.fullPaths ? try Self.absolutePaths(given) : given
        var seen = Set<[UInt8]>()
        var tops: [(path: BytePath, name: [UInt8], st: stat)] = []
        for p in paths {
            guard let st = FileMetadata.lstat(BytePath(p)) else {
                if errno == ENOENT { throw CairnError.pathNotFound(p) }
                throw CairnError.io("cannot read \(p): \(FileMetadata.errorText())")
            }
            var trimmed = p
            while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
            var name = Array((trimmed.split(separator: "/").last.map(String.init) ?? "root").utf8)
            if name == [46] || name == [46, 46] { name = Array("root".utf8) }
            guard options.fullPaths || seen.insert(name).inserted else {
                throw CairnError.invalidArgument("two arguments end in the same name \"\(EscapedText.escape(name))\": back them up separately")
            }
            tops.append((BytePath(trimmed), name, st))
        }
        let chunker = try repo.chunker(profile: options.profile ?? "file")
        let parent = try repo.latestSnapshot(name: options.name, sourceKind: .tree)
        var parentRoot: Tree? = nil
        if let parent { parentRoot = try await repo.loadTree(parent.snapshot.root) }
        let parentHasFullPaths = parent.map { SnapshotFacts.hasFullPaths($0.snapshot.extra) } ?? false
        do {
            var missing: [String] = []
            var archived: [(components: [[UInt8]], entry: Entry)] = []
            for t in tops {
                topDevice = UInt64(t.st.st_dev)
                let before = warnings.count
                let components = options.fullPaths ? t.path.bytes.split(separator: 47).map(Array.init) : [t.name]
                // The same path in the previous snapshot: at its full path, or by its last component in one made before.
                var previous: Node? = nil
                if options.fullPaths && parentHasFullPaths {
                    previous = try await node(at: components, in: parentRoot)
                } else if !options.fullPaths || !parentHasFullPaths {
                    previous = parentRoot?.node(named: t.name)
                }
                if components.isEmpty {
                    // "/" itself: its entries are the root's.
                    var whole: Node? = nil
                    if parentHasFullPaths, let r = parent?.snapshot.root { whole = Node(name: [], kind: .directory); whole?.subtree = r }
                    guard let e = try await archive(path: t.path, name: [], st: t.st, parent: whole, chunker: chunker, top: tops.count == 1) else {
                        missing.append(warnings.count > before ? warnings[before] : "\(t.path): not saved"); continue
                    }
                    archived.append(([], e))
                } else if let e = try await archive(path: t.path, name: components.last!, st: t.st, parent: previous, chunker: chunker,
                                                    top: tops.count == 1) {
                    archived.append((components, e))
                } else {
                    missing.append(warnings.count > before ? warnings[before] : "\(t.path): not saved")
                }
            }
            // A snapshot that holds none of its sources would look like a fresh backup.
            if archived.isEmpty {
                throw CairnError.nothingSaved(missing)
            }
            if !missing.isEmpty { sourcesMissing = missing.count }
            let root: ChunkID
            if let whole = archived.first(where: { $0.components.isEmpty }) {
                guard let subtree = whole.entry.node.subtree else { throw CairnError.invalidArgument("/ is not a directory") }
                root = subtree
            } else if options.fullPaths {
                root = try await directory(at: [], holding: archived.map { ($0.components, $0.entry) })
            } else {
                root = try await finishDirectory(archived.map(\.entry))
            }
            if options.fullPaths { layoutFacts = [String: String](extra: [SnapshotFacts.pathLayout: "absolute"]) }
            return try await commit(root: root, paths: paths, kind: .tree, parent: parent?.id, started: started)
        } catch {
            await abandon()
            throw error
        }
    }

    /// The arguments as absolute, lexically clean paths ("." and ".." resolved,
    /// no repeated or trailing "/"), relative ones against the working directory;
    /// duplicates and paths inside another argument dropped (the outer one holds them).
    public static func absolutePaths(_ given: [String]) throws -> [String] {
        var out: [[Substring]] = []
        for p in given {
            guard !p.isEmpty else { throw CairnError.invalidArgument("an empty path was given") }
            var full = p
            if !p.hasPrefix("/") {
                var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let cwd = getcwd(&buffer, buffer.count) != nil ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
                guard cwd.hasPrefix("/") else { throw CairnError.io("cannot tell the working directory to resolve \(p)") }
                full = cwd + "/" + p
            }
            var components: [Substring] = []
            for c in full.split(separator: "/", omittingEmptySubsequences: true) {
                if c == "." { continue }
                if c == ".." { _ = components.popLast(); continue }
                components.append(c)
            }
            out.append(components)
        }
        var kept: [[Substring]] = []
        for c in out.sorted(by: { $0.count < $1.count }) where !kept.contains(where: { c.starts(with: $0) }) { kept.append(c) }
        // In the order given.
        return out.filter { c in kept.contains(c) }.reduce(into: [[Substring]]()) { acc, c in if !acc.contains(c) { acc.append(c) } }
            .map { "/" + $0.joined(separator: "/") }
    }

    /// The node at `components` below `tree`, when every step is a directory.
    private func node(at components: [[UInt8]], in tree: Tree?) async throws -> Node? {
        guard var tree, !components.isEmpty else { return nil }
        for (i, c) in components.enumerated() {
            guard let n = tree.node(named: c) else { return nil }
            if i == components.count - 1 { return n }
            guard n.kind == .directory, let sub = n.subtree else { return nil }
            tree = try await repo.loadTree(sub)
        }
        return nil
    }

    /// Stores the directory at `prefix` (absolute components) holding the
    /// archived arguments below it; the directories on the way get the
    /// metadata of the real ones.
    private func directory(at prefix: [[UInt8]], holding items: [(components: [[UInt8]], entry: Entry)]) async throws -> ChunkID {
        var direct: [Entry] = []
        var groups: [[UInt8]: [(components: [[UInt8]], entry: Entry)]] = [:]
        var order: [[UInt8]] = []
        for item in items {
            let next = item.components[prefix.count]
            if item.components.count == prefix.count + 1 { direct.append(item.entry); continue }
            if groups[next] == nil { order.append(next) }
            groups[next, default: []].append(item)
        }
        for name in order {
            let path = prefix + [name]
            let real = BytePath(bytes: [47] + Array(path.joined(separator: [47])))
            var st = stat()
            // Followed: a directory on the way reached through a symbolic link is recorded as the directory it is.
            guard real.withCString({ stat($0, &st) }) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
                throw CairnError.io("cannot read the directory \(real): \(FileMetadata.errorText())")
            }
            var node = FileMetadata.node(name: name, kind: .directory, st: st, names: &names)
            node.subtree = try await directory(at: path, holding: groups[name] ?? [])
            directories += 1
            direct.append(Entry(node: node))
        }
        return try await finishDirectory(direct)
    }

    /// Backs up one stream (standard input) as a single file named after the snapshot.
    /// - Parameter prefix: bytes already read from `fd` (sniffed), which come first.
    public func backup(streamFD fd: Int32, prefix: [UInt8] = [], label: String = "-") async throws -> BackupResult {
        let started = Clock.monotonic()
        let chunker = try repo.chunker(profile: options.profile ?? "dump")
        chunkerProfile = options.profile ?? "dump"
        processor = Self.processor(repo: repo, saver: saver, options: options, profile: options.profile ?? "dump")
        do {
            let slot = try await stream(fd: fd, chunker: chunker, path: label, prefix: prefix)
            var node = Node(name: Array(options.name.utf8), kind: .file, mode: 0o600)
            node.mtimeNanos = options.timeNanos ?? Clock.nowNanos()
            node.ctimeNanos = node.mtimeNanos
            files = 1
            let root = try await finishDirectory([Entry(node: node, slot: slot)])
            return try await commit(root: root, paths: [label], kind: .stream, parent: nil, started: started)
        } catch {
            await abandon()
            throw error
        }
    }

    // MARK: walking

    /// A tree entry whose file content may still be in the pipeline (`slot`).
    struct Entry {
        var node: Node
        var slot: Int? = nil
    }

    /// - Parameters:
    ///   - relative: the path below the argument ("" for the argument itself), for `BackupOptions.exclude`.
    ///   - top: the one directory argument, into which `beforeCommit` may add files.
    private func archive(path: BytePath, name: [UInt8], st: stat, parent: Node?, chunker: FastCDC,
                         relative: [UInt8] = [], top: Bool = false) async throws -> Entry? {
        guard let kind = FileMetadata.kind(st) else {
            skip("\(path): skipped (a file of unknown type)")
            return nil
        }
        var node = FileMetadata.node(name: name, kind: kind, st: st, names: &names)
        node.xattrs = FileMetadata.extendedAttributes(path)
        switch kind {
        case .fifo, .characterDevice, .blockDevice, .socket:
            // Recorded as what they are (type, device number, metadata), never opened.
            break
        case .symlink:
            guard let target = FileMetadata.readLink(path) else {
                skip("\(path): cannot read link: \(FileMetadata.errorText())"); return nil
            }
            node.linkTarget = target
        case .directory:
            guard let entries = FileMetadata.entries(path) else {
                skip("\(path): cannot read directory: \(FileMetadata.errorText())"); return nil
            }
            var parentTree: Tree? = nil
            if let p = parent, p.kind == .directory, let sub = p.subtree { parentTree = try await repo.loadTree(sub) }
            var children: [Entry] = []
            for e in entries {
                let childPath = path.appending(e)
                let childRelative = relative.isEmpty ? e : relative + [47] + e
                guard let cst = FileMetadata.lstat(childPath) else {
                    // Gone between readdir and lstat: deleted while we walked, which is not an error.
                    if errno != ENOENT { skip("\(childPath): cannot stat: \(FileMetadata.errorText())") }
                    continue
                }
                if options.leavesOut(childPath, relative: childRelative, st: cst, topDevice: topDevice) { continue }
                if let c = try await archive(path: childPath, name: e, st: cst, parent: parentTree?.node(named: e), chunker: chunker,
                                             relative: childRelative) {
                    children.append(c)
                }
            }
            if top, let hook = options.beforeCommit {
                // The walk is complete: the hook's files join this directory, byte for byte.
                let added = try await hook()
                hookRan = true
                addedExtra = added.extra
                for f in added.files {
                    children.removeAll { $0.node.name == Array(f.name.utf8) }
                    children.append(try await addedFile(f, like: node))
                }
            }
            node.subtree = try await finishDirectory(children)
            directories += 1
        case .file:
            files += 1
            if !options.forceRead, let p = parent, p.kind == .file, p.size == node.size, p.mtime == node.mtime,
               p.ctime == node.ctime, p.inode == node.inode, try allPresent(p.content) {
                node.content = p.content
                unchanged += 1
                logical += node.size
                progress.update { $0.bytesDone += node.size; $0.filesDone += 1 }
                return Entry(node: node)
            }
            var source: SourceFile
            switch SourceFile.open(path, scanned: st) {
            case .file(let f): source = f
            case .gone:
                // Deleted after the scan, like an entry gone between readdir and lstat: not an error.
                files -= 1; return nil
            case .replaced(let what):
                files -= 1
                changedDuringBackup.append(path.jsonString)
                skip("\(path): replaced by \(what) after the scan; not saved")
                return nil
            case .failed(let reason):
                skip("\(path): cannot open: \(reason)"); files -= 1; return nil
            }
            defer { source.close() }
            var changes: [String] = []
            if !SourceFile.isSameFile(source.before, as: st) { changes.append("replaced by another file after the scan") }
            if !source.settle() { changes.append("written continuously while the backup waited to read it") }
            // The snapshot records the file as it was when reading started.
            let xattrs = node.xattrs
            node = FileMetadata.node(name: name, kind: .file, st: source.before, names: &names)
            node.xattrs = xattrs
            progress.update { $0.currentPath = path.description }
            let slot: Int
            do { slot = try await stream(fd: source.fd, chunker: chunker, path: path.description, small: node.size < 1 << 20) } catch let e as CairnError {
                skip(e.description); files -= 1; return nil
            }
            progress.update { $0.filesDone += 1 }
            // A writer changed the file while we read it: the copy may be torn.
            if let differs = source.changesSinceOpened(bytesRead: lastStreamBytes) {
                changes.append("\(differs.joined(separator: ", ")) differ before and after reading")
            }
            if !changes.isEmpty {
                changedDuringBackup.append(path.jsonString)
                warnings.append("\(path): changed while it was read (\(changes.joined(separator: "; "))); the snapshot holds what was read. Stop the writer or back up a filesystem snapshot")
            }
            return Entry(node: node, slot: slot)
        }
        return Entry(node: node)
    }

    /// Reports an entry that is not in the snapshot.
    private func skip(_ warning: String) {
        warnings.append(warning)
        skipped += 1
    }

    /// A file the `beforeCommit` hook supplies, owned like its directory, mode 0600.
    private func addedFile(_ f: BackupAdditions.File, like dir: Node) async throws -> Entry {
        guard let tmp = tmpfile() else { throw CairnError.io("cannot create a temporary file: \(FileMetadata.errorText())") }
        defer { fclose(tmp) }
        let fd = fileno(tmp)
        try writeAll(fd, f.bytes, path: "temporary file")
        guard lseek(fd, 0, SEEK_SET) == 0 else { throw CairnError.io("cannot rewind a temporary file: \(FileMetadata.errorText())") }
        let now = Clock.nowNanos()
        let node = Node(name: Array(f.name.utf8), kind: .file, mode: 0o600, uid: dir.uid, gid: dir.gid, user: dir.user, group: dir.group,
                        mtimeNanos: now, ctimeNanos: now, size: UInt64(f.bytes.count))
        files += 1
        return Entry(node: node, slot: try await stream(fd: fd, chunker: try repo.chunker(profile: options.profile ?? "file"), path: f.name))
    }

    /// Completes file nodes whose chunks are in flight, then stores the tree.
    private func finishDirectory(_ entries: [Entry]) async throws -> ChunkID {
        var nodes = entries.map(\.node)
        if entries.contains(where: { $0.slot != nil }) {
            try await drain()
            for (i, e) in entries.enumerated() {
                if let slot = e.slot { try await finishContent(of: &nodes[i], slot: slot) }
            }
        }
        return try await saver.saveMetadata(.tree, Tree(nodes: nodes).encoded())
    }

    private func finishContent(of node: inout Node, slot: Int) async throws {
        guard var b = builders.removeValue(forKey: slot) else { return }
        let (lists, root) = b.finish()
        for l in lists { _ = try await saver.saveMetadata(.list, l.encodedListBlob()) }
        node.content = root
        node.size = b.size
        logical += b.size
    }

    /// True when every id the content names directly is in the index.
    /// One read transaction per file, not one per chunk (what it saves on an
    /// unchanged tree: Docs/performance.md).
    private func allPresent(_ c: ContentRef) throws -> Bool {
        try !repo.index.contains(c.ids, type: c.level == 0 ? .data : .list).contains(false)
    }

    // MARK: the pipeline

    /// Chunks a whole file or stream into the batch; returns its slot.
    ///
    /// - Parameter small: a file known to be small is read inline; anything
    ///   else is read and cut a batch at a time on a dispatch thread, so the
    ///   cooperative threads keep hashing and compressing the previous batch
    ///   meanwhile (and a stream that blocks, a pipe from pg_dump, parks no
    ///   cooperative thread).
    private func stream(fd: Int32, chunker: FastCDC, path: String, small: Bool = false, prefix: [UInt8] = []) async throws -> Int {
        let slot = nextSlot
        nextSlot += 1
        builders[slot] = ContentBuilder()
        let input = ChunkReader(fd: fd, chunker: chunker, path: path, prefix: prefix, reusing: spareReadBuffer)
        spareReadBuffer = []
        defer {
            lastStreamBytes = input.bytesRead - UInt64(prefix.count)
            spareReadBuffer = input.surrenderBuffer()
        }
        if small {
            while let chunk = try input.next() {
                append(chunk, slot: slot)
                if batchBytes >= batchLimit { try await flushBatch() }
            }
            return slot
        }
        let reader = UncheckedSendable(input)
        while true {
            let room = max(1, batchLimit - batchBytes)
            let chunks = try await BlockingIO.run { try reader.value.next(bytes: room) }
            if chunks.isEmpty { break }
            for chunk in chunks { append(chunk, slot: slot) }
            if batchBytes >= batchLimit { try await flushBatch() }
        }
        return slot
    }

    private func append(_ chunk: [UInt8], slot: Int) {
        batch.append(chunk); batchSlots.append(slot); batchBytes += chunk.count
        progress.update { $0.bytesDone += UInt64(chunk.count) }
    }

    /// Hands the current batch to the parallel stage and commits the previous one.
    private func flushBatch() async throws {
        let chunks = batch, slots = batchSlots
        batch = []; batchSlots = []; batchBytes = 0
        let previous = inflight
        let processor = self.processor
        inflight = chunks.isEmpty ? nil : (Task { try await processor.process(chunks) }, slots)
        if let previous { try await commitBatch(try await previous.task.value, slots: previous.slots) }
    }

    /// Waits until every chunk read so far is in a pack buffer and a builder.
    private func drain() async throws {
        try await flushBatch()
        try await flushBatch()
    }

    /// The sequential stage: in input order, new blobs to packs and ids to builders.
    private func commitBatch(_ results: [ChunkProcessor.Result], slots: [Int]) async throws {
        for (r, slot) in zip(results, slots) {
            if let sealed = r.sealed {
                try await saver.add(sealed: sealed, type: .data, id: r.id, rawLength: r.length, base: r.base, features: r.features)
            }
            let lists = builders[slot]!.append(r.id, length: r.length)
            for l in lists { _ = try await saver.saveMetadata(.list, l.encodedListBlob()) }
        }
        progress.update { $0.newBytes = saver.currentStats.newDataRawBytes }
    }

    private func abandon() async {
        if let t = inflight?.task { _ = try? await t.value }
        inflight = nil
        await saver.abandon()
    }

    // MARK: commit

    /// How a tree snapshot lays out its paths (`SnapshotFacts.pathLayout`).
    private var layoutFacts: [String: String] = [:]

    /// What the snapshot records about what it lacks (format-spec §13): absent when it holds everything.
    private var partialFacts: [String: String] {
        var facts: [String: String] = [:]
        if !changedDuringBackup.isEmpty { facts[SnapshotFacts.changedDuringBackup] = String(changedDuringBackup.count) }
        if skipped > 0 { facts[SnapshotFacts.skipped] = String(skipped) }
        if sourcesMissing > 0 { facts[SnapshotFacts.sourcesMissing] = String(sourcesMissing) }
        // Not a lack, but recorded with them: the profile the content was cut with (a copy re-chunks by it).
        facts[SnapshotFacts.chunkerProfile] = chunkerProfile
        return facts
    }

    private func commit(root: ChunkID, paths: [String], kind: Snapshot.SourceKind, parent: String?, started: Double) async throws -> BackupResult {
        if !hookRan, let hook = options.beforeCommit {
            let added = try await hook()
            guard added.files.isEmpty else {
                throw CairnError.invalidArgument("files can be added only to a backup of exactly one directory")
            }
            addedExtra = added.extra
        }
        try await saver.finish()
        let stats = saver.currentStats
        let snapshot = Snapshot(timeNanos: options.timeNanos ?? Clock.nowNanos(), name: options.name,
                                host: options.host ?? Host.name, user: Host.user, tags: options.tags, paths: paths,
                                sourceKind: kind, root: root, parent: parent.flatMap { ChunkID(hex: $0) },
                                logicalBytes: logical, fileCount: files, directoryCount: directories,
                                newBytes: stats.newDataRawBytes, extra: options.extra.merging(addedExtra) { $1 }.merging(partialFacts) { $1 }.merging(layoutFacts) { $1 }, programVersion: CairnVersion.string)
        let id = try await repo.saveSnapshot(snapshot)
        return BackupResult(snapshotID: id, snapshot: snapshot, newBytes: stats.newDataRawBytes, storedBytes: stats.packBytes,
                            seconds: Clock.monotonic() - started, warnings: warnings, unchangedFiles: unchanged,
                            changedDuringBackup: changedDuringBackup)
    }
}

/// The version this build reports.
public enum CairnVersion {
    public static let string = "0.1.0"
}

import CairnFormat
import CairnRepository
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
    var processor: ChunkProcessor
    var names = NameCache()

    let batchLimit = 4 << 20
    var batch: [[UInt8]] = []
    var batchSlots: [Int] = []
    var batchBytes = 0
    var inflight: (task: Task<[ChunkProcessor.Result], Error>, slots: [Int])?

    var builders: [Int: ContentBuilder] = [:]
    /// The last file's read buffer, for the next file.
    var spareReadBuffer: [UInt8] = []
    var nextSlot = 0
    var warnings: [String] = []
    var unchanged: UInt64 = 0
    /// Files that changed while they were read (size, mtime or ctime differed
    /// after reading them) or were replaced after the scan.
    var changedDuringBackup: [String] = []
    /// Entries left out of the snapshot (unreadable, or replaced after the scan).
    var skipped = 0
    /// Arguments of which nothing is in the snapshot.
    var sourcesMissing = 0
    /// Bytes the last `stream` call read from its descriptor.
    var lastStreamBytes: UInt64 = 0
    /// The device of the argument being walked, for `BackupOptions.oneFileSystem`.
    var topDevice: UInt64 = 0
    var logical: UInt64 = 0
    var files: UInt64 = 0
    var directories: UInt64 = 0
    /// Extra facts the `beforeCommit` hook returned; whether it ran already.
    var addedExtra: [String: String] = [:]
    var hookRan = false
    /// The chunker profile content is cut with (recorded in the snapshot).
    var chunkerProfile: String

    public init(repo: Repository, options: BackupOptions, progress: WorkProgress = WorkProgress()) {
        self.repo = repo
        self.options = options
        self.progress = progress
        saver = BlobSaver(repo: repo)
        processor = Self.processor(repo: repo, saver: saver, options: options, profile: options.profile ?? ChunkerProfileName.file)
        chunkerProfile = options.profile ?? ChunkerProfileName.file
    }

    /// The parallel stage for a chunker profile: delta compression is on by
    /// default for database dumps and RDB files, where changes are scattered.
    static func processor(repo: Repository, saver: BlobSaver, options: BackupOptions, profile: String) -> ChunkProcessor {
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
        let chunker = try repo.chunker(profile: options.profile ?? ChunkerProfileName.file)
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
            return try await commit(root: root, paths: paths, kind: .tree, parent: parent?.id.hex, started: started)
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
    func node(at components: [[UInt8]], in tree: Tree?) async throws -> Node? {
        guard let tree, !components.isEmpty else { return nil }
        return try await TreeWalker.node(at: components, in: tree, load: { [repo] in try await repo.loadTree($0) })
    }

    /// Stores the directory at `prefix` (absolute components) holding the
    /// archived arguments below it; the directories on the way get the
    /// metadata of the real ones.
    func directory(at prefix: [[UInt8]], holding items: [(components: [[UInt8]], entry: Entry)]) async throws -> ChunkID {
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
        let chunker = try repo.chunker(profile: options.profile ?? ChunkerProfileName.dump)
        chunkerProfile = options.profile ?? ChunkerProfileName.dump
        processor = Self.processor(repo: repo, saver: saver, options: options, profile: options.profile ?? ChunkerProfileName.dump)
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

    // MARK: commit

    /// How a tree snapshot lays out its paths (`SnapshotFacts.pathLayout`).
    var layoutFacts: [String: String] = [:]

    /// What the snapshot records about what it lacks (format-spec §13): absent when it holds everything.
    var partialFacts: [String: String] {
        var facts: [String: String] = [:]
        if !changedDuringBackup.isEmpty { facts[SnapshotFacts.changedDuringBackup] = String(changedDuringBackup.count) }
        if skipped > 0 { facts[SnapshotFacts.skipped] = String(skipped) }
        if sourcesMissing > 0 { facts[SnapshotFacts.sourcesMissing] = String(sourcesMissing) }
        // Not a lack, but recorded with them: the profile the content was cut with (a copy re-chunks by it).
        facts[SnapshotFacts.chunkerProfile] = chunkerProfile
        return facts
    }

    func commit(root: ChunkID, paths: [String], kind: Snapshot.SourceKind, parent: String?, started: Double) async throws -> BackupResult {
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
                                sourceKind: kind, root: root, parent: parent.flatMap { SnapshotID(hex: $0) },
                                logicalBytes: logical, fileCount: files, directoryCount: directories,
                                newBytes: stats.newDataRawBytes, extra: options.extra.merging(addedExtra) { $1 }.merging(partialFacts) { $1 }.merging(layoutFacts) { $1 }, programVersion: CairnVersion.string)
        let id = try await repo.saveSnapshot(snapshot)
        return BackupResult(snapshotID: id, snapshot: snapshot, newBytes: stats.newDataRawBytes, storedBytes: stats.packBytes,
                            seconds: Clock.monotonic() - started, warnings: warnings, unchangedFiles: unchanged,
                            changedDuringBackup: changedDuringBackup)
    }
}

import CairnFormat
import CairnIndex
import CairnRepository
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A read-only view of a repository's snapshots as one directory tree, for
/// `cairn mount` (the FUSE glue is the CLI's; this type does the lookups):
///
///     /snapshots/<time>/...          every snapshot by its UTC time (2026-12-06T11:33:08Z; -1, -2 on ties)
///     /snapshots/latest -> <time>
///     /names/<name>/<time>/..., /names/<name>/latest
///     /hosts/<host>/<time>/..., /hosts/<host>/latest
///     /tags/<tag>/<time>/...,   /tags/<tag>/latest
///     /ids/<id>/...                  by the 8-character id `cairn snapshots` shows (the full id if ambiguous)
///
/// Below a snapshot directory are the snapshot's own trees. Files are read
/// with random access: a read fetches only the chunks that cover it (one
/// ranged read per run of neighbouring blobs, each verified), and keeps the
/// most recently fetched chunks up to `cacheBytes` for the next reads.
public final class SnapshotFileSystem: Sendable {
    /// What a path names.
    public struct Item: Sendable {
        public enum Kind: Sendable { case directory, file, symlink, fifo, characterDevice, blockDevice, socket }
        public var kind: Kind
        /// Permission bits (st_mode & 0o7777).
        public var mode: UInt32
        public var uid: UInt32
        public var gid: UInt32
        public var size: UInt64
        public var mtime: FileTime
        public var linkTarget: [UInt8] = []
        public var deviceMajor: UInt32 = 0
        public var deviceMinor: UInt32 = 0
        /// Where its entries come from (directories).
        fileprivate var listing: Listing = .none
        /// The snapshot node (entries inside a snapshot).
        fileprivate var node: Node? = nil
    }

    fileprivate enum Listing: Sendable {
        case none
        case virtual(VirtualDirectory)
        case tree(ChunkID)
    }

    /// A directory of the layout above the snapshots.
    fileprivate final class VirtualDirectory: Sendable {
        let entries: [(name: [UInt8], item: Item)]
        init(_ entries: [(name: [UInt8], item: Item)]) { self.entries = entries.sorted { $0.name.lexicographicallyPrecedes($1.name) } }
        func item(named name: [UInt8]) -> Item? { entries.first { $0.name == name }?.item }
    }

    private let repo: Repository
    private let root: Item
    private let owner: (uid: UInt32, gid: UInt32)
    private let cache: ChunkCache
    private let trees = Mutex<[ChunkID: Tree]>([:])
    private let files = Mutex<(next: UInt64, open: [UInt64: OpenFile])>((1, [:]))
    /// Trees kept decoded in memory (beyond the index's own tree cache).
    static let treeCacheCount = 512

    /// The snapshots in `records` (the repository's, as `cairn snapshots` lists them). Virtual
    /// directories belong to `owner` (the mounting user); `cacheBytes` bounds the chunk cache.
    public init(repo: Repository, records: [SnapshotRecord], owner: (uid: UInt32, gid: UInt32), cacheBytes: Int = 64 << 20) {
        self.repo = repo
        self.owner = owner
        cache = ChunkCache(limit: cacheBytes)
        root = Self.layout(records, owner: owner)
    }

    // MARK: lookups

    /// The item at `path` ("/a/b", raw bytes), or nil when there is none.
    public func item(at path: [UInt8]) async throws -> Item? {
        var item = root
        for name in path.split(separator: 47) {
            guard let next = try await child(Array(name), of: item) else { return nil }
            item = next
        }
        return item
    }

    /// The entries of the directory at `path`, or nil when it is not a directory.
    public func list(_ path: [UInt8]) async throws -> [(name: [UInt8], item: Item)]? {
        guard let dir = try await item(at: path), dir.kind == .directory else { return nil }
        switch dir.listing {
        case .none: return []
        case .virtual(let v): return v.entries
        case .tree(let id): return try await tree(id).nodes.map { ($0.name, Self.item(for: $0)) }
        }
    }

    private func child(_ name: [UInt8], of dir: Item) async throws -> Item? {
        guard dir.kind == .directory else { return nil }
        switch dir.listing {
        case .none: return nil
        case .virtual(let v): return v.item(named: name)
        case .tree(let id): return try await tree(id).node(named: name).map(Self.item(for:))
        }
    }

    private func tree(_ id: ChunkID) async throws -> Tree {
        if let t = trees.withLock({ $0[id] }) { return t }
        let t = try await repo.loadTree(id)
        trees.withLock { cached in
            if cached.count >= Self.treeCacheCount { cached.removeAll(keepingCapacity: true) }
            cached[id] = t
        }
        return t
    }

    private static func item(for node: Node) -> Item {
        let kind: Item.Kind
        switch node.kind {
        case .file: kind = .file
        case .directory: kind = .directory
        case .symlink: kind = .symlink
        case .fifo: kind = .fifo
        case .characterDevice: kind = .characterDevice
        case .blockDevice: kind = .blockDevice
        case .socket: kind = .socket
        }
        var item = Item(kind: kind, mode: node.mode & 0o7777, uid: node.uid, gid: node.gid,
                        size: node.kind == .symlink ? UInt64(node.linkTarget.count) : node.size, mtime: node.mtime,
                        linkTarget: node.linkTarget, deviceMajor: node.deviceMajor, deviceMinor: node.deviceMinor)
        if node.kind == .directory { item.listing = node.subtree.map { .tree($0) } ?? .none }
        if node.kind == .file { item.node = node }
        return item
    }

    // MARK: files

    /// Opens the file at `path` for reading; returns a handle for `read`.
    /// Works out where each chunk starts (the content's list blobs are read
    /// and its chunks looked up in the index; no data is fetched yet).
    public func open(_ path: [UInt8]) async throws -> UInt64 {
        guard let item = try await item(at: path) else { throw CairnError.pathNotFound(EscapedText.escape(path)) }
        guard item.kind == .file, let node = item.node else {
            throw CairnError.invalidArgument("\(EscapedText.escape(path)) is not a regular file")
        }
        let file = try await OpenFile(repo: repo, node: node, display: EscapedText.escape(path))
        return files.withLock { f in
            let h = f.next
            f.next += 1
            f.open[h] = file
            return h
        }
    }

    /// Up to `count` bytes of the open file `handle` from `offset` (fewer only at its end).
    public func read(_ handle: UInt64, offset: UInt64, count: Int) async throws -> [UInt8] {
        guard let file = files.withLock({ $0.open[handle] }) else { throw CairnError.invalidArgument("no open file \(handle)") }
        return try await file.read(offset: offset, count: count, repo: repo, cache: cache)
    }

    /// Forgets the open file `handle`.
    public func close(_ handle: UInt64) {
        _ = files.withLock { $0.open.removeValue(forKey: handle) }
    }

    /// One open file: its chunks and where each starts.
    private final class OpenFile: Sendable {
        let node: Node
        let display: String
        let reads: [BlobRead]
        let bases: [ChunkID: BlobLocation]
        /// starts[i]: the file offset of chunk i; starts.last == node.size.
        let starts: [UInt64]

        init(repo: Repository, node: Node, display: String) async throws {
            self.node = node
            self.display = display
            var ids: [ChunkID] = []
            try await Self.flatten(node.content, into: &ids, repo: repo, limit: node.size)
            let located = ids.isEmpty ? LocatedChunks() : try await repo.locateDataChunks(ids)
            var starts: [UInt64] = [0]
            starts.reserveCapacity(located.reads.count + 1)
            for r in located.reads {
                guard r.location.rawLength > 0 else {
                    throw CairnError.damagedBlob(blob: r.id.hex, pack: r.location.pack.hex, reason: "an empty chunk in the content of \(display)")
                }
                starts.append(starts[starts.count - 1] + UInt64(r.location.rawLength))
            }
            guard starts[starts.count - 1] == node.size else {
                throw CairnError.other("\(display): its chunks hold \(starts[starts.count - 1]) bytes, the snapshot records \(node.size)")
            }
            reads = located.reads
            bases = located.bases
            self.starts = starts
        }

        /// The data chunk ids of `content`, in order; more than `limit` of
        /// them (each chunk holds at least one byte) is damage, refused before
        /// reading further.
        private static func flatten(_ content: ContentRef, into ids: inout [ChunkID], repo: Repository, limit: UInt64) async throws {
            try await ListExpander.expand(content, readList: { try await repo.readBlob(.list, $0) }, data: { run in
                guard UInt64(ids.count + run.count) <= limit else {
                    throw CairnError.other("the content lists more chunks than the file has bytes")
                }
                ids += run
            })
        }

        func read(offset: UInt64, count: Int, repo: Repository, cache: ChunkCache) async throws -> [UInt8] {
            guard offset < node.size, count > 0 else { return [] }
            let end = min(node.size, offset + UInt64(count))
            // The chunk holding `offset`: the last start at or before it.
            var lo = 0, hi = reads.count - 1
            while lo < hi {
                let mid = (lo + hi + 1) / 2
                if starts[mid] <= offset { lo = mid } else { hi = mid - 1 }
            }
            var needed: [Int] = []
            var i = lo
            while i < reads.count && starts[i] < end { needed.append(i); i += 1 }
            var chunks: [Int: [UInt8]] = [:]
            var missing: [Int] = []
            for i in needed {
                if let c = cache.get(reads[i].id) { chunks[i] = c } else { missing.append(i) }
            }
            if !missing.isEmpty {
                let fetched: [[UInt8]]
                do {
                    fetched = try await repo.readDataChunks(ArraySlice(missing.map { reads[$0] }), baseLocations: bases)
                } catch {
                    throw CairnError.other("\(display): \(describe(error))")
                }
                for (k, i) in missing.enumerated() {
                    guard fetched[k].count == Int(reads[i].location.rawLength) else {
                        throw CairnError.other("\(display): chunk \(reads[i].id.short) holds \(fetched[k].count) bytes, the index records \(reads[i].location.rawLength)")
                    }
                    chunks[i] = fetched[k]
                    cache.put(reads[i].id, fetched[k])
                }
            }
            var out: [UInt8] = []
            out.reserveCapacity(Int(end - offset))
            for i in needed {
                guard let chunk = chunks[i] else { throw CairnError.other("\(display): chunk \(i) was not read") }
                let from = Int(max(offset, starts[i]) - starts[i])
                let to = Int(min(end, starts[i + 1]) - starts[i])
                out += chunk[from..<to]
            }
            return out
        }
    }

    // MARK: layout

    private static func layout(_ records: [SnapshotRecord], owner: (uid: UInt32, gid: UInt32)) -> Item {
        let sorted = records.sorted { ($0.snapshot.timeNanos, $0.id) < ($1.snapshot.timeNanos, $1.id) }
        func directory(_ entries: [(name: [UInt8], item: Item)], mtime: FileTime) -> Item {
            var item = Item(kind: .directory, mode: 0o555, uid: owner.uid, gid: owner.gid, size: 0, mtime: mtime)
            item.listing = .virtual(VirtualDirectory(entries))
            return item
        }
        func snapshotItem(_ r: SnapshotRecord) -> Item {
            var item = Item(kind: .directory, mode: 0o555, uid: owner.uid, gid: owner.gid, size: 0, mtime: FileTime(nanos: r.snapshot.timeNanos))
            item.listing = .tree(r.snapshot.root)
            return item
        }
        func link(_ target: [UInt8], mtime: FileTime) -> Item {
            Item(kind: .symlink, mode: 0o777, uid: owner.uid, gid: owner.gid, size: UInt64(target.count), mtime: mtime, linkTarget: target)
        }
        /// Snapshots (oldest first) by time, ties numbered, plus `latest`.
        func byTime(_ group: [SnapshotRecord]) -> Item {
            var entries: [(name: [UInt8], item: Item)] = []
            var used: [String: Int] = [:]
            var last: [UInt8] = []
            for r in group {
                let t = timeName(r.snapshot.timeNanos)
                let n = used[t, default: 0]
                used[t] = n + 1
                last = Array((n == 0 ? t : "\(t)-\(n)").utf8)
                entries.append((last, snapshotItem(r)))
            }
            let newest = FileTime(nanos: group.last?.snapshot.timeNanos ?? 0)
            if !group.isEmpty { entries.append((Array("latest".utf8), link(last, mtime: newest))) }
            return directory(entries, mtime: newest)
        }
        func grouped(_ key: (SnapshotRecord) -> [String]) -> Item {
            var groups: [String: [SnapshotRecord]] = [:]
            for r in sorted { for k in Set(key(r)) { groups[k, default: []].append(r) } }
            let entries = groups.map { (name: groupName($0.key), item: byTime($0.value)) }
            return directory(entries, mtime: FileTime(nanos: sorted.last?.snapshot.timeNanos ?? 0))
        }
        var prefixes: [Substring: Int] = [:]
        for r in sorted { prefixes[r.id.prefix(8), default: 0] += 1 }
        let ids = sorted.map { r in (name: Array((prefixes[r.id.prefix(8)] == 1 ? String(r.id.prefix(8)) : r.id.hex).utf8), item: snapshotItem(r)) }
        let newest = FileTime(nanos: sorted.last?.snapshot.timeNanos ?? 0)
        return directory([
            (Array("snapshots".utf8), byTime(sorted)),
            (Array("ids".utf8), directory(ids, mtime: newest)),
            (Array("names".utf8), grouped { [$0.snapshot.name] }),
            (Array("hosts".utf8), grouped { [$0.snapshot.host] }),
            (Array("tags".utf8), grouped { $0.snapshot.tags }),
        ], mtime: newest)
    }

    /// A name, host or tag as one directory entry: escaped as `ls` shows it,
    /// with "/" as \x2f (a name cannot hold it), and "." / ".." / "" spelled out.
    static func groupName(_ s: String) -> [UInt8] {
        let escaped = Array(EscapedText.escape(Array(s.utf8)).utf8)
        switch escaped {
        case []: return Array("(empty)".utf8)
        case [46], [46, 46]: return escaped.flatMap { _ in Array("\\x2e".utf8) }
        default: return escaped.flatMap { $0 == 47 ? Array("\\x2f".utf8) : [$0] }
        }
    }

    /// UTC time to the second, RFC 3339 ("2026-12-06T11:33:08Z").
    static func timeName(_ nanos: Int64) -> String {
        var seconds = time_t(nanos >= 0 ? nanos / 1_000_000_000 : (nanos - 999_999_999) / 1_000_000_000)
        var tm = tm()
        guard gmtime_r(&seconds, &tm) != nil else { return "\(seconds)" }
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(tm.tm_year + 1900)-\(two(tm.tm_mon + 1))-\(two(tm.tm_mday))T\(two(tm.tm_hour)):\(two(tm.tm_min)):\(two(tm.tm_sec))Z"
    }
}

/// Plaintext chunks most recently fetched, up to a byte budget (oldest out first).
final class ChunkCache: Sendable {
    private struct State {
        var chunks: [ChunkID: [UInt8]] = [:]
        var order: [ChunkID] = []
        var head = 0
        var bytes = 0
    }
    private let state = Mutex(State())
    let limit: Int

    init(limit: Int) { self.limit = max(0, limit) }

    func get(_ id: ChunkID) -> [UInt8]? { state.withLock { $0.chunks[id] } }

    func put(_ id: ChunkID, _ chunk: [UInt8]) {
        guard chunk.count <= limit else { return }
        state.withLock { s in
            guard s.chunks[id] == nil else { return }
            s.chunks[id] = chunk
            s.order.append(id)
            s.bytes += chunk.count
            while s.bytes > limit, s.head < s.order.count {
                if let old = s.chunks.removeValue(forKey: s.order[s.head]) { s.bytes -= old.count }
                s.head += 1
            }
            if s.head > 1024 && s.head * 2 > s.order.count {
                s.order.removeFirst(s.head)
                s.head = 0
            }
        }
    }
}

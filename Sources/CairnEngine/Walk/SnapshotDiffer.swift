import CairnFormat
import CairnRepository

/// `cairn diff`: what changed between two snapshots, path by path. Trees are
/// compared by id first: an unchanged directory (same tree id) is skipped
/// without being read, so the cost follows what changed, not the tree's size.
public struct SnapshotDiffer {
    let repo: Repository
    public init(repo: Repository) { self.repo = repo }

    /// restic's diff markers.
    public enum Modifier: String, Sendable {
        case added = "+"
        case removed = "-"
        /// The content changed (a file's bytes, a symlink's target, a device's numbers).
        case modified = "M"
        /// Only metadata changed (mode, owner, mtime, extended attributes).
        case metadata = "U"
        /// The type changed (a file became a directory, ...): reported as such, not as removed + added.
        case typeChanged = "T"
    }

    /// One changed path.
    public struct Change: Sendable {
        /// From the snapshot root, "/a/b", raw bytes.
        public let path: [UInt8]
        public let modifier: Modifier
        public let old: Node?
        public let new: Node?
        /// For `.modified`/`.metadata`: what differs among content, mode, owner, mtime, xattrs.
        public let what: [String]
    }

    /// Totals, as restic's diff prints them.
    public struct Stats: Sendable {
        public var added = Side(), removed = Side()
        public var modified = 0, metadataOnly = 0, typeChanged = 0
        public struct Side: Sendable {
            public var files = 0, directories = 0, others = 0
            public var bytes: UInt64 = 0
        }
    }

    public func diff(_ a: SnapshotRecord, _ b: SnapshotRecord, visit: (Change) throws -> Void) async throws -> Stats {
        var stats = Stats()
        try await diff(tree: a.snapshot.root, b.snapshot.root, prefix: [], stats: &stats, visit: visit)
        return stats
    }

    /// Deeper trees are refused: no file system nests directories this deep
    /// (PATH_MAX is 4096 bytes), so such a tree was forged.
    public static let maximumDepth = 4096

    static func checkDepth(_ prefix: [UInt8], _ tree: ChunkID) throws {
        guard prefix.count(where: { $0 == 47 }) <= maximumDepth else {
            throw CairnError.damagedObject("tree \(tree.hex.prefix(12))", "it is nested more than \(maximumDepth) directories deep")
        }
    }

    private func diff(tree a: ChunkID, _ b: ChunkID, prefix: [UInt8], stats: inout Stats, visit: (Change) throws -> Void) async throws {
        guard a != b else { return }
        try Self.checkDepth(prefix, b)
        let ta = try await repo.loadTree(a), tb = try await repo.loadTree(b)
        // Both sorted by name bytes (format-spec): one merge pass.
        var i = 0, j = 0
        while i < ta.nodes.count || j < tb.nodes.count {
            let na = i < ta.nodes.count ? ta.nodes[i] : nil, nb = j < tb.nodes.count ? tb.nodes[j] : nil
            switch (na, nb) {
            case let (x?, y?) where x.name == y.name:
                try await compare(x, y, path: prefix + [47] + x.name, stats: &stats, visit: visit)
                i += 1; j += 1
            case let (x?, y?) where x.name.lexicographicallyPrecedes(y.name):
                try await whole(x, prefix: prefix + [47] + x.name, added: false, stats: &stats, visit: visit); i += 1
            case let (x?, nil):
                try await whole(x, prefix: prefix + [47] + x.name, added: false, stats: &stats, visit: visit); i += 1
            case let (_, y?):
                try await whole(y, prefix: prefix + [47] + y.name, added: true, stats: &stats, visit: visit); j += 1
            case (nil, nil):
                return
            }
        }
    }

    /// Two nodes of the same name.
    private func compare(_ na: Node, _ nb: Node, path: [UInt8], stats: inout Stats, visit: (Change) throws -> Void) async throws {
        if na.kind != nb.kind {
            stats.typeChanged += 1
            try visit(Change(path: path, modifier: .typeChanged, old: na, new: nb, what: ["type"]))
            if na.kind == .directory, let s = na.subtree { try await walk(s, prefix: path, added: false, stats: &stats, visit: visit) }
            if nb.kind == .directory, let s = nb.subtree { try await walk(s, prefix: path, added: true, stats: &stats, visit: visit) }
            return
        }
        let what = Self.differences(na, nb)
        if !what.isEmpty {
            let content = what.contains("content")
            if content { stats.modified += 1 } else { stats.metadataOnly += 1 }
            try visit(Change(path: path, modifier: content ? .modified : .metadata, old: na, new: nb, what: what))
        }
        if na.kind == .directory, let sa = na.subtree, let sb = nb.subtree {
            try await diff(tree: sa, sb, prefix: path, stats: &stats, visit: visit)
        }
    }

    /// A node present on one side only, and everything below it.
    private func whole(_ node: Node, prefix: [UInt8], added: Bool, stats: inout Stats, visit: (Change) throws -> Void) async throws {
        count(node, added: added, stats: &stats)
        try visit(Change(path: prefix, modifier: added ? .added : .removed, old: added ? nil : node, new: added ? node : nil, what: []))
        if node.kind == .directory, let sub = node.subtree { try await walk(sub, prefix: prefix, added: added, stats: &stats, visit: visit) }
    }

    /// Everything below a directory present on one side only.
    private func walk(_ tree: ChunkID, prefix: [UInt8], added: Bool, stats: inout Stats, visit: (Change) throws -> Void) async throws {
        try Self.checkDepth(prefix, tree)
        try await TreeWalker.walk(tree, load: { [repo] in try await repo.loadTree($0) }, visit: { relative, node in
            let path = prefix + relative
            if node.kind == .directory, let sub = node.subtree { try Self.checkDepth(path, sub) }
            count(node, added: added, stats: &stats)
            try visit(Change(path: path, modifier: added ? .added : .removed, old: added ? nil : node, new: added ? node : nil, what: []))
        })
    }

    private func count(_ node: Node, added: Bool, stats: inout Stats) {
        func bump(_ s: inout Stats.Side) {
            switch node.kind {
            case .file: s.files += 1; s.bytes += node.size
            case .directory: s.directories += 1
            default: s.others += 1
            }
        }
        if added { bump(&stats.added) } else { bump(&stats.removed) }
    }

    /// What differs between two nodes of the same kind. ctime, inode and
    /// device change with every copy of a file and are not compared.
    static func differences(_ a: Node, _ b: Node) -> [String] {
        var out: [String] = []
        switch a.kind {
        case .file: if a.content != b.content || a.size != b.size { out.append("content") }
        case .symlink: if a.linkTarget != b.linkTarget { out.append("content") }
        case .characterDevice, .blockDevice: if a.deviceMajor != b.deviceMajor || a.deviceMinor != b.deviceMinor { out.append("content") }
        default: break
        }
        if a.mode != b.mode { out.append("mode") }
        if a.uid != b.uid || a.gid != b.gid || a.user != b.user || a.group != b.group { out.append("owner") }
        if a.mtime != b.mtime { out.append("mtime") }
        if a.xattrs != b.xattrs { out.append("xattrs") }
        return out
    }
}

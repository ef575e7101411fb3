import CairnFormat
import CairnRepository
#if canImport(Glibc)
import Glibc
#endif

/// `cairn find`: the entries of snapshots whose name (or, for a pattern with
/// a '/', whose path) matches a shell glob. A directory that appears
/// unchanged in many snapshots (the same tree id) is searched once: its
/// matches are remembered, so a year of nightly snapshots costs about what
/// its distinct trees cost.
public struct SnapshotFinder {
    let repo: Repository
    /// The patterns; an entry matches when any one does.
    let patterns: [String]
    let ignoreCase: Bool

    public init(repo: Repository, patterns: [String], ignoreCase: Bool = false) {
        self.repo = repo; self.patterns = patterns; self.ignoreCase = ignoreCase
    }

    /// One matching entry.
    public struct Match: Sendable {
        /// From the snapshot root, "/a/b", raw bytes.
        public let path: [UInt8]
        public let node: Node
    }

    /// Matches below a tree, with paths relative to it; trees searched so far.
    private final class Memo {
        var matches: [ChunkID: [Match]] = [:]
        var entries = 0
        /// Bounds the memory: past this many remembered matches the memo starts over.
        static let capacity = 1_000_000
        func remember(_ id: ChunkID, _ m: [Match]) {
            if entries + m.count > Self.capacity { matches.removeAll(); entries = 0 }
            matches[id] = m; entries += m.count
        }
    }
    private let memo = Memo()

    /// Does `pattern` match the entry named `name` at `path`?
    func matches(name: [UInt8], path: [UInt8]) -> Bool {
        // FNM_CASEFOLD (glibc, 1 << 4): not visible to Swift without _GNU_SOURCE.
        let flags: Int32 = ignoreCase ? 1 << 4 : 0
        return patterns.contains { p in
            let subject = p.contains("/") ? path : name
            return (subject + [0]).withUnsafeBufferPointer { s in
                s.withMemoryRebound(to: CChar.self) { fnmatch(p, $0.baseAddress, flags) == 0 }
            }
        }
    }

    /// Every match in one snapshot, depth first (`TreeWalker`'s order). A tree
    /// searched before is not walked again: its matches are replayed under the
    /// path that leads to it this time.
    public func find(in record: SnapshotRecord) async throws -> [Match] {
        // A pattern with '/' depends on where the tree is, so only name patterns are remembered.
        let memoizable = !patterns.contains { $0.contains("/") }
        /// A tree being walked: where its path ends and where its matches start in `found`.
        struct Frame { let id: ChunkID; let pathLength: Int; let first: Int }
        var found: [Match] = [], frames: [Frame] = []
        // TreeWalker hands a directory's node over just before entering it: its path is the last one visited.
        var lastPath: [UInt8] = []
        try await TreeWalker.walk(record.snapshot.root, enter: { id in
            if memoizable, let known = memo.matches[id] {
                found += known.map { Match(path: lastPath + $0.path, node: $0.node) }
                return false
            }
            try SnapshotDiffer.checkDepth(lastPath, id)
            frames.append(Frame(id: id, pathLength: lastPath.count, first: found.count))
            return true
        }, load: { [repo] in try await repo.loadTree($0) }, visit: { path, node in
            lastPath = path
            if matches(name: node.name, path: path) { found.append(Match(path: path, node: node)) }
        }, leave: { _ in
            let done = frames.removeLast()
            guard memoizable else { return }
            memo.remember(done.id, found[done.first...].map { Match(path: Array($0.path[done.pathLength...]), node: $0.node) })
        })
        return found
    }
}

import CairnFormat
import CairnRepository

/// Walks a snapshot's trees for `cairn ls` and the restore checks.
public struct SnapshotBrowser {
    let repo: Repository
    public init(repo: Repository) { self.repo = repo }

    /// Every node with its path relative to the snapshot root ("/a/b", raw
    /// bytes: names need not be UTF-8), depth first.
    public func walk(_ record: SnapshotRecord, visit: ([UInt8], Node) throws -> Void) async throws {
        try await TreeWalker.walk(record.snapshot.root, load: { [repo] in try await repo.loadTree($0) }, visit: { path, node in try visit(path, node) })
    }

    /// The node at `path` (components below the root), or nil when there is none.
    public func node(at path: [[UInt8]], in record: SnapshotRecord) async throws -> Node? {
        guard !path.isEmpty else { return nil }
        return try await TreeWalker.node(at: path, in: try await repo.loadTree(record.snapshot.root), load: { [repo] in try await repo.loadTree($0) })
    }
}

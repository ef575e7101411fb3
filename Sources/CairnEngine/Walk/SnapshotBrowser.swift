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
        var tree = try await repo.loadTree(record.snapshot.root)
        for (i, name) in path.enumerated() {
            guard let node = tree.node(named: name) else { return nil }
            if i == path.count - 1 { return node }
            guard node.kind == .directory, let sub = node.subtree else { return nil }
            tree = try await repo.loadTree(sub)
        }
        return nil
    }
}

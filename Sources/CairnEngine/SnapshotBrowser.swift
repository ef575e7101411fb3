import CairnFormat

/// Walks a snapshot's trees for `cairn ls`.
public struct SnapshotBrowser {
    let repo: Repository
    public init(repo: Repository) { self.repo = repo }

    /// Every node with its path relative to the snapshot root, depth first.
    public func walk(_ record: SnapshotRecord, visit: (String, Node) throws -> Void) async throws {
        try await walk(tree: record.snapshot.root, prefix: "", visit: visit)
    }

    private func walk(tree id: ChunkID, prefix: String, visit: (String, Node) throws -> Void) async throws {
        let tree = try await repo.loadTree(id)
        for node in tree.nodes {
            let path = prefix.isEmpty ? "/" + node.displayName : prefix + "/" + node.displayName
            try visit(path, node)
            if node.kind == .directory, let sub = node.subtree {
                try await walk(tree: sub, prefix: path, visit: visit)
            }
        }
    }
}

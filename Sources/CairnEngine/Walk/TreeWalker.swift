import CairnFormat

/// The one walk over a snapshot's directories: depth first from a root tree,
/// each node handed over (with its path) before the directory it names is
/// walked. Prune's mark, copy, lock extension and `ls` walk through here;
/// file content goes through `ListExpander`.
///
/// Iterative: one frame per directory level (its nodes and the position in
/// them) and one path buffer extended and cut back per level, so memory grows
/// with the depth, never with its square, and a tree nested 50,000 deep needs
/// no deeper call stack (issue 15.14). Walks that must visit each tree once
/// (snapshots share nearly all their trees; a forged DAG shares one subtree
/// under millions of paths, issue 15.13) say so through `enter`.
enum TreeWalker {
    /// Walks from tree `root`. `enter` says whether to go into a tree at all
    /// (false: skipped with everything below it); `load` returns it decoded
    /// and verified; `visit` gets each node and its path below the root
    /// ("/a/b", raw bytes); `leave` is called once a tree's whole subtree has
    /// been walked (post-order: copy stores a tree after its children).
    static func walk(_ root: ChunkID,
                     enter: (ChunkID) async throws -> Bool = { _ in true },
                     load: (ChunkID) async throws -> Tree,
                     visit: (_ path: [UInt8], _ node: Node) async throws -> Void = { _, _ in },
                     leave: (ChunkID) async throws -> Void = { _ in }) async throws {
        struct Frame {
            let id: ChunkID
            let nodes: [Node]
            var next = 0
            /// Length of the path of this directory.
            let pathLength: Int
        }
        guard try await enter(root) else { return }
        var path: [UInt8] = []
        var stack = [Frame(id: root, nodes: try await load(root).nodes, pathLength: 0)]
        while let top = stack.indices.last {
            guard stack[top].next < stack[top].nodes.count else {
                let done = stack.removeLast()
                try await leave(done.id)
                path.removeSubrange((stack.last?.pathLength ?? 0)...)
                continue
            }
            let node = stack[top].nodes[stack[top].next]
            stack[top].next += 1
            path.removeSubrange(stack[top].pathLength...)
            path.append(0x2F); path += node.name
            try await visit(path, node)
            if node.kind == .directory, let sub = node.subtree, try await enter(sub) {
                stack.append(Frame(id: sub, nodes: try await load(sub).nodes, pathLength: path.count))
            }
        }
    }
}

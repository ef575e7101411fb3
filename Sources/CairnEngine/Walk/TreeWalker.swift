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

    /// A walk that rebuilds every tree from the bottom up (copy's re-chunking, snapshot
    /// repair): `change` may alter each node (its path given) before the directory it
    /// names is walked; once a directory's nodes are all done, `save` stores them as a
    /// tree (given the old id and the directory's path) and its id replaces the old one
    /// in the parent's node. `known` returns the new id of a tree rebuilt before (that
    /// subtree is not walked again: each tree once, however many paths lead to it).
    /// `load` is called once for each tree walked, `save` once after it, strictly nested.
    /// Iterative like `walk`. Returns the new root's id.
    static func rewrite(_ root: ChunkID,
                        known: (_ id: ChunkID, _ path: [UInt8]) async throws -> ChunkID? = { _, _ in nil },
                        load: (_ id: ChunkID, _ path: [UInt8]) async throws -> Tree,
                        change: (_ path: [UInt8], _ node: inout Node) async throws -> Void,
                        save: (_ id: ChunkID, _ path: [UInt8], _ nodes: [Node]) async throws -> ChunkID) async throws -> ChunkID {
        struct Frame {
            let id: ChunkID
            var nodes: [Node]
            var next = 0
            let pathLength: Int
        }
        if let done = try await known(root, []) { return done }
        var path: [UInt8] = []
        var stack = [Frame(id: root, nodes: try await load(root, path).nodes, pathLength: 0)]
        while true {
            let top = stack.count - 1
            guard stack[top].next < stack[top].nodes.count else {
                let done = stack.removeLast()
                path.removeSubrange(done.pathLength...)
                let made = try await save(done.id, path, done.nodes)
                guard let parent = stack.indices.last else { return made }
                stack[parent].nodes[stack[parent].next - 1].subtree = made
                continue
            }
            let i = stack[top].next
            stack[top].next += 1
            path.removeSubrange(stack[top].pathLength...)
            path.append(0x2F); path += stack[top].nodes[i].name
            try await change(path, &stack[top].nodes[i])
            guard stack[top].nodes[i].kind == .directory, let sub = stack[top].nodes[i].subtree else { continue }
            if let done = try await known(sub, path) {
                stack[top].nodes[i].subtree = done
            } else {
                stack.append(Frame(id: sub, nodes: try await load(sub, path).nodes, pathLength: path.count))
            }
        }
    }
}

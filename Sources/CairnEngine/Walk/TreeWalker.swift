import CairnFormat

/// The one walk over a snapshot's directories: depth first from a root tree,
/// each node handed over (with its path) before the directory it names is
/// walked. Restore, prune's mark, copy (by id and re-chunking), snapshot
/// repair, scrub's damage trace, lock extension, `find`, `diff`, `ls` and the
/// tar export (CairnTarExport) walk through here; file content goes through
/// `ListExpander`.
///
/// Iterative: one frame per directory level (its nodes and the position in
/// them) and one path buffer extended and cut back per level, so memory grows
/// with the depth, never with its square, and a tree nested 50,000 deep needs
/// no deeper call stack (issue 15.14). Walks that must visit each tree once
/// (snapshots share nearly all their trees; a forged DAG shares one subtree
/// under millions of paths, issue 15.13) say so through `enter`.
public enum TreeWalker {
    /// Walks from tree `root`. `enter` says whether to go into a tree at all
    /// (false: skipped with everything below it); `load` returns it decoded
    /// and verified; `visit` gets each node and its path below the root
    /// ("/a/b", raw bytes); `leave` is called once a tree's whole subtree has
    /// been walked (post-order: copy stores a tree after its children).
    public static func walk(_ root: ChunkID,
                     enter: (ChunkID) async throws -> Bool = { _ in true },
                     load: (ChunkID) async throws -> Tree,
                     visit: (_ path: [UInt8], _ node: Node) async throws -> Void = { _, _ in },
                     leave: (ChunkID) async throws -> Void = { _ in }) async throws {
        guard try await enter(root) else { return }
        try await walk(nodes: try await load(root).nodes, root: root, visit: { path, node, _ in
            try await visit(path, node)
            guard node.kind == .directory, let sub = node.subtree, try await enter(sub) else { return nil }
            return (try await load(sub).nodes, sub)
        }, leave: { _, id, _ in
            try await leave(id)
        })
    }

    /// The node at `components` below `tree` (every step before the last a directory),
    /// or nil when there is none: the one path lookup (`ls PATH` and the restore checks
    /// through `SnapshotBrowser`, a backup's previous node for a path, repair's files).
    public static func node(at components: [[UInt8]], in tree: Tree, load: (ChunkID) async throws -> Tree) async throws -> Node? {
        var tree = tree
        for (i, name) in components.enumerated() {
            guard let node = tree.node(named: name) else { return nil }
            if i == components.count - 1 { return node }
            guard node.kind == .directory, let sub = node.subtree else { return nil }
            tree = try await load(sub)
        }
        return nil
    }

    /// The walk itself, for walks that keep state of their own per directory
    /// (`Level`: the restore's open directory, a rewrite's new nodes). From
    /// `nodes`, the root directory's (its state `root`): `visit` gets each node,
    /// its path below the root ("/a/b", raw bytes) and the states of the
    /// directories on the way to it (the last is its own directory's; any may
    /// be changed), and returns the nodes and state of the directory it names
    /// when the walk is to go into it (nil: not, or not a directory). `leave`
    /// gets each directory's state once everything below it was walked (the
    /// root's last), with the directory's path and the states above it.
    public static func walk<Level>(nodes: [Node], root: Level,
                            visit: (_ path: [UInt8], _ node: Node, _ levels: inout [Level]) async throws -> (nodes: [Node], level: Level)?,
                            leave: (_ path: [UInt8], _ done: Level, _ levels: inout [Level]) async throws -> Void) async throws {
        var path: [UInt8] = []
        var frames = [Frame(nodes: nodes, pathLength: 0)]
        var levels = [root]
        while let top = frames.indices.last {
            guard frames[top].next < frames[top].nodes.count else {
                path.removeSubrange(frames.removeLast().pathLength...)
                let done = levels.removeLast()
                try await leave(path, done, &levels)
                continue
            }
            let node = frames[top].nodes[frames[top].next]
            frames[top].next += 1
            path.removeSubrange(frames[top].pathLength...)
            path.append(0x2F); path += node.name
            if let next = try await visit(path, node, &levels) {
                frames.append(Frame(nodes: next.nodes, pathLength: path.count))
                levels.append(next.level)
            }
        }
    }

    /// One directory level of a walk: its nodes and the next to visit.
    private struct Frame {
        let nodes: [Node]
        var next = 0
        /// Length of the path of this directory.
        let pathLength: Int
    }

    /// A directory being rebuilt: the old tree's id and the nodes made so far.
    private struct Rebuilt {
        let id: ChunkID
        var nodes: [Node] = []
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
        if let done = try await known(root, []) { return done }
        var made = root
        let rootNodes = try await load(root, []).nodes
        try await walk(nodes: rootNodes, root: Rebuilt(id: root), visit: { path, node, levels in
            var node = node
            try await change(path, &node)
            var next: (nodes: [Node], level: Rebuilt)? = nil
            if node.kind == .directory, let sub = node.subtree {
                if let done = try await known(sub, path) {
                    node.subtree = done
                } else {
                    next = (try await load(sub, path).nodes, Rebuilt(id: sub))
                }
            }
            levels[levels.count - 1].nodes.append(node)
            return next
        }, leave: { path, done, levels in
            let id = try await save(done.id, path, done.nodes)
            // The directory's node is the last its parent has so far.
            if let parent = levels.indices.last, let last = levels[parent].nodes.indices.last {
                levels[parent].nodes[last].subtree = id
            } else {
                made = id
            }
        })
        return made
    }
}

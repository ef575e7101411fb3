import CairnFormat

/// A tree blob's plaintext (one directory level).
enum TreeTarget {
    static let target = FuzzTarget(
        name: "tree", maxLength: 16 << 10, summary: "Tree.decode (versions 1 and 2)",
        seeds: {
            let withoutXattrs = Tree(nodes: SampleValues.tree.nodes.map { var n = $0; n.xattrs = []; return n })
            return [SampleValues.tree.encoded(), withoutXattrs.encoded(), Tree(nodes: []).encoded()]
        },
        run: { bytes in
            guard let tree = try? Tree.decode(bytes) else { return }
            require(tree.encoded() == bytes, "tree does not re-encode to its bytes")
            for node in tree.nodes {
                require(!node.name.isEmpty && !node.name.contains(0) && !node.name.contains(47) && node.name != [46] && node.name != [46, 46],
                        "unsafe name \(node.name) accepted")
            }
        })
}

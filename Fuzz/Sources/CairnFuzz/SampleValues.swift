import CairnFormat

/// Small honest values for the encoder-made seeds.
enum SampleValues {
    static func id(_ b: UInt8) -> ChunkID { name(b) }
    /// The same bytes as a name of another kind (a pack's, a snapshot's).
    static func name<ID: SHA256Name>(_ b: UInt8) -> ID { ID(bytes: [UInt8](repeating: b, count: 32))! }

    static var tree: Tree {
        var file = Node(name: Array("README.md".utf8), kind: .file, mode: 0o644, uid: 1000, gid: 1000, user: "alice", group: "staff",
                        mtimeNanos: 1_700_000_000_123_456_789, ctimeNanos: 1_700_000_001_000_000_000, inode: 1234567, device: 66306,
                        size: 5000, content: ContentRef(level: 0, ids: [id(1), id(2)]))
        file.xattrs = [ExtendedAttribute(name: Array("user.a".utf8), value: [1, 2, 3])]
        let dir = Node(name: Array("src".utf8), kind: .directory, mode: 0o755, subtree: id(3))
        let link = Node(name: [0xff, 0x6c], kind: .symlink, mode: 0o777, linkTarget: Array("../x".utf8))
        return Tree(nodes: [file, dir, link])
    }

    static var snapshot: Snapshot {
        Snapshot(timeNanos: 1_700_000_000_000_000_000, name: "db", host: "db1", user: "postgres", tags: ["daily", "pg"],
                 paths: ["/var/lib/postgresql"], sourceKind: "pg-dump", root: id(4), parent: name(5), logicalBytes: 1 << 30,
                 fileCount: 3, directoryCount: 1, newBytes: 12345, extra: ["pg-wal-file": "000000010000000000000002", "server": "15.4"],
                 programVersion: "cairn 0.1")
    }

    static var indexDelta: IndexDelta {
        IndexDelta(packs: [
            IndexedPack(id: name(6), type: .data, size: 4000, entries: [
                BlobEntry(type: .data, id: id(1), offset: 0, length: 3000, rawLength: 4096),
                BlobEntry(type: .data, id: id(2), offset: 3000, length: 900, rawLength: 8000, base: id(1)),
            ]),
            IndexedPack(id: name(7), type: .metadata, size: 500, entries: [BlobEntry(type: .tree, id: id(3), offset: 0, length: 400, rawLength: 380)]),
        ], supersedes: [name(8)])
    }
}

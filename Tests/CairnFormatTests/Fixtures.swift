import CairnFormat

/// Fixed sample objects shared by the codec tests.
enum Fixtures {
    /// A recognizable id: every byte is `seed` plus its index.
    static func id(_ seed: UInt8) -> ChunkID { name(seed) }

    /// The same recognizable bytes as a name of another kind (a pack's, a snapshot's).
    static func name<ID: SHA256Name>(_ seed: UInt8) -> ID {
        ID(bytes: (0..<32).map { seed &+ UInt8($0) })!
    }

    static let tree = Tree(nodes: [
        Node(name: Array("b.txt".utf8), kind: .file, mode: 0o644, uid: 1000, gid: 1000, user: "alice", group: "staff",
             mtimeNanos: 1_700_000_000_123_456_789, ctimeNanos: -1, inode: 42, device: 2049, size: 12,
             content: ContentRef(level: 0, ids: [id(1), id(2)])),
        Node(name: [0xFF, 0xFE, 0x41], kind: .file, size: 0),  // not UTF-8
        Node(name: Array("dir".utf8), kind: .directory, mode: 0o755, subtree: id(3)),
        Node(name: Array("link".utf8), kind: .symlink, mode: 0o777, linkTarget: [0x2E, 0x2E, 0x2F, 0xC3, 0x28]),
        Node(name: Array("huge".utf8), kind: .file, uid: UInt32.max, gid: UInt32.max - 1, inode: UInt64.max,
             device: 1 << 63, size: 1 << 40, content: ContentRef(level: 3, ids: [id(4)])),
    ])

    static let snapshotWithParent = Snapshot(
        timeNanos: 1_700_000_000_000_000_000, name: "nightly", host: "db1", user: "root", tags: ["a", "b"],
        paths: ["/srv", "-"], sourceKind: "tree", root: id(10), parent: name(11), logicalBytes: 1 << 35,
        fileCount: 7, directoryCount: 2, newBytes: 300, extra: ["pg_version": "16", "z": "", "é": "acute"],
        programVersion: "cairn 0.1")

    static let snapshotMinimal = Snapshot(timeNanos: -1, name: "", host: "", sourceKind: "stream", root: id(12))

    static let dataPackHeader = PackHeader(type: .data, entries: [
        BlobEntry(type: .data, id: id(20), offset: 0, length: 100, rawLength: 4096),
        BlobEntry(type: .data, id: id(21), offset: 100, length: 5000, rawLength: 4972),
        BlobEntry(type: .data, id: id(22), offset: 5100, length: UInt32.max, rawLength: UInt32.max),
    ])
    static let dataPackLength: UInt64 = 5100 + UInt64(UInt32.max)

    static let metadataPackHeader = PackHeader(type: .metadata, entries: [
        BlobEntry(type: .tree, id: id(30), offset: 0, length: 77, rawLength: 120),
        BlobEntry(type: .list, id: id(31), offset: 77, length: 200, rawLength: 161),
    ])
    static let metadataPackLength: UInt64 = 277

    static let indexDelta = IndexDelta(packs: [
        IndexedPack(id: name(40), type: .data, size: dataPackLength + 300, entries: dataPackHeader.entries),
        IndexedPack(id: name(41), type: .metadata, size: metadataPackLength + 100, entries: metadataPackHeader.entries),
    ], supersedes: [name(42), name(43)])

    static let contentRef = ContentRef(level: 1, ids: (50..<60).map { id($0) })

    static let config = RepositoryConfig(repositoryID: Array(0..<32), createdNanos: 1_700_000_000_000_000_000)

    static let keyFile = KeyFile(scrypt: .default, salt: Array(100..<132), createdNanos: 5, host: "host",
                                 user: "user", sealedMasterKey: Array(0..<60))
}

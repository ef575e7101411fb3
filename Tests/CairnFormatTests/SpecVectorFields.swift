import CairnFormat

/// JSON shapes of the objects in `format-spec/vectors`, and their conversion
/// to the format types. Ids and raw byte fields are hex strings.
struct VectorError: Error, CustomStringConvertible { var description: String }

private func id(_ hex: String) throws -> ChunkID { try sha256Name(hex) }

/// A 32-byte name of any kind (blob, pack, snapshot) from its hex.
private func sha256Name<ID: SHA256Name>(_ hex: String) throws -> ID {
    guard let id = ID(hex: hex) else { throw VectorError(description: "bad id \(hex)") }
    return id
}

private func bytes(_ hex: String) throws -> [UInt8] {
    guard let b = Hex.decode(hex) else { throw VectorError(description: "bad hex \(hex)") }
    return b
}

private func enumValue<T>(_ table: [String: T], _ key: String) throws -> T {
    guard let v = table[key] else { throw VectorError(description: "unknown value \(key)") }
    return v
}

struct ContentRefFields: Decodable {
    var level: UInt8; var ids: [String]
    func make() throws -> ContentRef { ContentRef(level: level, ids: try ids.map(id)) }
}

struct TreeFields: Decodable {
    struct XattrFields: Decodable { var nameHex: String; var valueHex: String }
    struct NodeFields: Decodable {
        var kind: String; var nameHex: String; var mode: UInt32; var uid: UInt32; var gid: UInt32
        var user: String; var group: String
        /// A time is either nanoseconds or seconds + nanoseconds (version 4 trees).
        var mtimeNanos: Int64?; var mtimeSeconds: Int64?; var mtimeNanoseconds: UInt32?
        var ctimeNanos: Int64?; var ctimeSeconds: Int64?; var ctimeNanoseconds: UInt32?
        var inode: UInt64; var device: UInt64; var size: UInt64
        var content: ContentRefFields?; var subtree: String?; var linkTargetHex: String?
        var deviceMajor: UInt32?; var deviceMinor: UInt32?
        var xattrs: [XattrFields]?
    }
    var nodes: [NodeFields]

    private static func time(_ nanos: Int64?, _ seconds: Int64?, _ ns: UInt32?) throws -> FileTime {
        if let seconds, let ns { return FileTime(seconds: seconds, nanoseconds: ns) }
        guard let nanos else { throw VectorError(description: "a node without a time") }
        return FileTime(nanos: nanos)
    }

    func make() throws -> Tree {
        Tree(nodes: try nodes.map { n in
            let kind = try enumValue(["file": NodeKind.file, "directory": .directory, "symlink": .symlink, "fifo": .fifo,
                                      "characterDevice": .characterDevice, "blockDevice": .blockDevice, "socket": .socket], n.kind)
            var node = Node(name: try bytes(n.nameHex), kind: kind, mode: n.mode, uid: n.uid, gid: n.gid, user: n.user,
                            group: n.group, inode: n.inode, device: n.device,
                            size: n.size, content: try n.content?.make() ?? ContentRef(), subtree: try n.subtree.map(id),
                            linkTarget: try bytes(n.linkTargetHex ?? ""))
            node.deviceMajor = n.deviceMajor ?? 0
            node.deviceMinor = n.deviceMinor ?? 0
            node.mtime = try Self.time(n.mtimeNanos, n.mtimeSeconds, n.mtimeNanoseconds)
            node.ctime = try Self.time(n.ctimeNanos, n.ctimeSeconds, n.ctimeNanoseconds)
            node.xattrs = try (n.xattrs ?? []).map { ExtendedAttribute(name: try bytes($0.nameHex), value: try bytes($0.valueHex)) }
                .sorted { $0.name.lexicographicallyPrecedes($1.name) }
            return node
        })
    }
}

struct SnapshotFields: Decodable {
    var timeNanos: Int64; var name: String; var host: String; var user: String; var tags: [String]; var paths: [String]
    var sourceKind: String; var root: String; var parent: String?; var logicalBytes: UInt64; var fileCount: UInt64
    var directoryCount: UInt64; var newBytes: UInt64; var extra: [String: String]; var programVersion: String

    func make() throws -> Snapshot {
        Snapshot(timeNanos: timeNanos, name: name, host: host, user: user, tags: tags, paths: paths, sourceKind: .init(rawValue: sourceKind),
                 root: try id(root), parent: try parent.map { try sha256Name($0) as SnapshotID }, logicalBytes: logicalBytes, fileCount: fileCount,
                 directoryCount: directoryCount, newBytes: newBytes, extra: extra, programVersion: programVersion)
    }
}

struct BlobEntryFields: Decodable {
    var type: String; var id: String; var offset: UInt64; var length: UInt32; var rawLength: UInt32
    func make() throws -> BlobEntry {
        BlobEntry(type: try enumValue(["data": BlobType.data, "tree": .tree, "list": .list], type), id: try CairnFormatTests.id(id),
                  offset: offset, length: length, rawLength: rawLength)
    }
}

private let packTypes: [String: PackType] = ["data": .data, "metadata": .metadata]

struct PackHeaderFields: Decodable {
    var type: String; var entries: [BlobEntryFields]
    func make() throws -> PackHeader { PackHeader(type: try enumValue(packTypes, type), entries: try entries.map { try $0.make() }) }
}

struct IndexDeltaFields: Decodable {
    struct Pack: Decodable { var id: String; var type: String; var size: UInt64; var entries: [BlobEntryFields] }
    var supersedes: [String]; var packs: [Pack]
    func make() throws -> IndexDelta {
        IndexDelta(packs: try packs.map {
            IndexedPack(id: try sha256Name($0.id), type: try enumValue(packTypes, $0.type), size: $0.size, entries: try $0.entries.map { try $0.make() })
        }, supersedes: try supersedes.map { try sha256Name($0) })
    }
}

struct ConfigFields: Decodable {
    struct Profile: Decodable { var name: String; var minimumSize, averageSize, maximumSize: Int; var normalization: UInt8 }
    var repositoryIDHex: String; var createdNanos: Int64; var packSize: UInt32; var compressionLevel: Int32; var profiles: [Profile]
    /// Present only in configs that share another repository's chunker seed (version 2).
    var chunkerSeedHex: String?
    /// Present only in configs with an Object Lock (version 3).
    struct Lock: Decodable { var mode: String; var days: UInt32 }
    var objectLock: Lock?
    func make() throws -> RepositoryConfig {
        RepositoryConfig(repositoryID: try bytes(repositoryIDHex), createdNanos: createdNanos, packSize: packSize,
                         compressionLevel: compressionLevel, profiles: profiles.map {
                             ChunkerProfile(name: $0.name, minimumSize: $0.minimumSize, averageSize: $0.averageSize,
                                            maximumSize: $0.maximumSize, normalization: $0.normalization)
                         }, chunkerSeed: try chunkerSeedHex.map {
                             guard let v = UInt64($0, radix: 16) else { throw FormatError.invalid(what: "vector", reason: "bad chunkerSeedHex") }
                             return v
                         }, objectLock: try objectLock.map {
                             guard let mode: RepositoryConfig.ObjectLock.Mode = $0.mode == "governance" ? .governance : $0.mode == "compliance" ? .compliance : nil else {
                                 throw FormatError.invalid(what: "vector", reason: "bad objectLock mode")
                             }
                             return RepositoryConfig.ObjectLock(mode: mode, days: $0.days)
                         })
    }
}

struct KeyFileFields: Decodable {
    struct Scrypt: Decodable { var logN: UInt8; var r: UInt32; var p: UInt32 }
    var scrypt: Scrypt; var saltHex: String; var createdNanos: Int64; var host: String; var user: String; var sealedMasterKeyHex: String
    func make() throws -> KeyFile {
        KeyFile(scrypt: ScryptParameters(logN: scrypt.logN, r: scrypt.r, p: scrypt.p), salt: try bytes(saltHex),
                createdNanos: createdNanos, host: host, user: user, sealedMasterKey: try bytes(sealedMasterKeyHex))
    }
}

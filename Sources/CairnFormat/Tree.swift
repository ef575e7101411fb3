/// The kind of a tree entry.
public enum NodeKind: UInt8, Sendable, Hashable, Codable {
    case file = 1
    case directory = 2
    case symlink = 3
    /// A named pipe (tree version 3).
    case fifo = 4
    /// A character device node: `deviceMajor`/`deviceMinor` (tree version 3).
    case characterDevice = 5
    /// A block device node: `deviceMajor`/`deviceMinor` (tree version 3).
    case blockDevice = 6
    /// A Unix domain socket: recorded, never recreated by a restore (tree version 3).
    case socket = 7

    /// FIFOs, devices and sockets: entries with no content, only metadata.
    public var isSpecial: Bool { rawValue >= NodeKind.fifo.rawValue }
    /// Character and block devices, which carry a device number.
    public var isDevice: Bool { self == .characterDevice || self == .blockDevice }
}

/// An extended attribute (name and value as raw bytes).
public struct ExtendedAttribute: Hashable, Sendable {
    public var name: [UInt8]
    public var value: [UInt8]
    public init(name: [UInt8], value: [UInt8]) { self.name = name; self.value = value }
}

/// One entry of a directory: a file, a subdirectory, a symbolic link or a
/// special file (FIFO, device, socket), with
/// the metadata a restore puts back and the stat fields that let the next
/// backup skip it unread when unchanged.
public struct Node: Hashable, Sendable {
    /// The name as raw bytes: POSIX names need not be UTF-8.
    public var name: [UInt8]
    public var kind: NodeKind
    /// Permission bits and set-id/sticky bits (st_mode & 0o7777).
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var user: String
    public var group: String
    /// Modification and status-change times, as the file system holds them.
    public var mtime: FileTime
    public var ctime: FileTime
    public var inode: UInt64
    public var device: UInt64
    /// Content length for files, 0 otherwise.
    public var size: UInt64
    /// File content (files only).
    public var content: ContentRef
    /// Subtree id (directories only).
    public var subtree: ChunkID?
    /// Link target bytes (symlinks only).
    public var linkTarget: [UInt8]
    /// Extended attributes, sorted by name (trees of version 2 and later).
    public var xattrs: [ExtendedAttribute] = []
    /// The device number of a character or block device (st_rdev), 0 otherwise.
    public var deviceMajor: UInt32 = 0
    public var deviceMinor: UInt32 = 0

    public init(name: [UInt8], kind: NodeKind, mode: UInt32 = 0o644, uid: UInt32 = 0, gid: UInt32 = 0,
                user: String = "", group: String = "", mtimeNanos: Int64 = 0, ctimeNanos: Int64 = 0,
                inode: UInt64 = 0, device: UInt64 = 0, size: UInt64 = 0, content: ContentRef = ContentRef(),
                subtree: ChunkID? = nil, linkTarget: [UInt8] = []) {
        self.name = name; self.kind = kind; self.mode = mode; self.uid = uid; self.gid = gid
        self.user = user; self.group = group
        mtime = FileTime(nanos: mtimeNanos); ctime = FileTime(nanos: ctimeNanos)
        self.inode = inode; self.device = device; self.size = size; self.content = content
        self.subtree = subtree; self.linkTarget = linkTarget
    }

    /// The name for people: escaped as `ls -b` does (`EscapedText`), one line, distinct for distinct names.
    public var displayName: String { EscapedText.escape(name) }

    /// The mtime in nanoseconds since the epoch (clamped to 1677-2262; `mtime` holds any time).
    public var mtimeNanos: Int64 {
        get { mtime.clampedNanos }
        set { mtime = FileTime(nanos: newValue) }
    }

    /// The ctime in nanoseconds since the epoch (clamped like `mtimeNanos`).
    public var ctimeNanos: Int64 {
        get { ctime.clampedNanos }
        set { ctime = FileTime(nanos: newValue) }
    }

    /// True when a time is outside what nanoseconds in an Int64 hold (before 1677 or after 2262).
    var needsWideTimes: Bool { mtime.nanosSinceEpoch == nil || ctime.nanosSinceEpoch == nil }
}

/// One directory level, stored as a `tree` blob whose id is the SHA-256 of
/// this encoding. Nodes are kept sorted by name bytes so equal directories
/// encode to equal bytes and dedup.
public struct Tree: Hashable, Sendable {
    /// Version 1 has no extended attributes; version 2 adds them to every
    /// node; version 3 adds FIFOs, devices and sockets; version 4 stores times
    /// as seconds and nanoseconds (for times before 1677 or after 2262). Each
    /// version holds everything the one before does, and a tree is written
    /// with the lowest version that can hold it, so trees keep their bytes
    /// (and ids) across releases.
    public static let version: UInt8 = 1
    public static let versionWithXattrs: UInt8 = 2
    public static let versionWithSpecialFiles: UInt8 = 3
    public static let versionWithWideTimes: UInt8 = 4

    /// The version this tree is written with.
    public var encodingVersion: UInt8 {
        if nodes.contains(where: { $0.needsWideTimes }) { return Self.versionWithWideTimes }
        if nodes.contains(where: { $0.kind.isSpecial }) { return Self.versionWithSpecialFiles }
        return nodes.contains { !$0.xattrs.isEmpty } ? Self.versionWithXattrs : Self.version
    }
    public private(set) var nodes: [Node]

    /// The fewest bytes a node takes (a symlink with a one-byte name, empty
    /// strings and target, one-byte varints): 1 + 2 + 4 + 4 × 1 + 2 × 8 + 3 × 1 + 1.
    /// A FIFO or socket (version 3) has no payload but the attribute count: also 31.
    public static let minimumNodeBytes = 31

    public init(nodes: [Node]) { self.nodes = nodes.sorted { $0.name.lexicographicallyPrecedes($1.name) } }

    public func node(named name: [UInt8]) -> Node? { nodes.first { $0.name == name } }

    public func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: 64 + nodes.count * 96)
        let v = encodingVersion
        let withXattrs = v >= Self.versionWithXattrs
        let wide = v >= Self.versionWithWideTimes
        w.u8(v); w.varint(nodes.count)
        for n in nodes {
            w.u8(n.kind.rawValue); w.data(n.name); w.u32(n.mode)
            w.varint(UInt64(n.uid)); w.varint(UInt64(n.gid)); w.string(n.user); w.string(n.group)
            if wide {
                w.i64(n.mtime.seconds); w.u32(n.mtime.nanoseconds); w.i64(n.ctime.seconds); w.u32(n.ctime.nanoseconds)
            } else {
                w.i64(n.mtimeNanos); w.i64(n.ctimeNanos)
            }
            w.varint(n.inode); w.varint(n.device); w.varint(n.size)
            switch n.kind {
            case .file: n.content.encode(into: &w)
            case .directory: w.id(n.subtree ?? ChunkID(bytes: [UInt8](repeating: 0, count: 32))!)
            case .symlink: w.data(n.linkTarget)
            case .characterDevice, .blockDevice: w.varint(UInt64(n.deviceMajor)); w.varint(UInt64(n.deviceMinor))
            case .fifo, .socket: break
            }
            if withXattrs {
                let sorted = n.xattrs.sorted { $0.name.lexicographicallyPrecedes($1.name) }
                w.varint(sorted.count)
                for x in sorted { w.data(x.name); w.data(x.value) }
            }
        }
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws -> Tree {
        let what = "tree"
        var r = ByteReader(bytes, what: what)
        let v = try r.u8()
        guard v >= version && v <= versionWithWideTimes else {
            throw FormatError.unsupportedVersion(what: what, version: Int(v), supported: Int(versionWithWideTimes))
        }
        let n = try r.count(elementsOfAtLeast: Self.minimumNodeBytes)
        var nodes: [Node] = []; nodes.reserveCapacity(ByteReader.initialCapacity(n))
        for _ in 0..<n {
            let k = try r.u8()
            guard let kind = NodeKind(rawValue: k), !kind.isSpecial || v >= versionWithSpecialFiles else {
                throw FormatError.invalid(what: what, reason: "unknown node kind \(k) in a version \(v) tree")
            }
            let name = try r.data()
            guard !name.isEmpty, !name.contains(47), name != [46], name != [46, 46], !name.contains(0) else {
                throw FormatError.invalid(what: what, reason: "unsafe entry name \(String(decoding: name, as: UTF8.self).debugDescription)")
            }
            var node = Node(name: name, kind: kind)
            node.mode = try r.u32()
            let uid = try r.varint(), gid = try r.varint()
            guard uid <= UInt64(UInt32.max), gid <= UInt64(UInt32.max) else { throw FormatError.invalid(what: what, reason: "uid/gid out of range") }
            node.uid = UInt32(uid); node.gid = UInt32(gid)
            node.user = try r.string(); node.group = try r.string()
            if v >= versionWithWideTimes {
                node.mtime = FileTime(seconds: try r.i64(), nanoseconds: try r.u32())
                node.ctime = FileTime(seconds: try r.i64(), nanoseconds: try r.u32())
                guard node.mtime.nanoseconds < 1_000_000_000, node.ctime.nanoseconds < 1_000_000_000 else {
                    throw FormatError.invalid(what: what, reason: "a time's nanoseconds are 1e9 or more")
                }
            } else {
                node.mtime = FileTime(nanos: try r.i64()); node.ctime = FileTime(nanos: try r.i64())
            }
            node.inode = try r.varint(); node.device = try r.varint(); node.size = try r.varint()
            switch kind {
            case .file: node.content = try ContentRef.decode(from: &r, what: what)
            case .directory: node.subtree = try r.id()
            case .symlink: node.linkTarget = try r.data()
            case .characterDevice, .blockDevice:
                let major = try r.varint(), minor = try r.varint()
                guard major <= UInt64(UInt32.max), minor <= UInt64(UInt32.max) else {
                    throw FormatError.invalid(what: what, reason: "device number out of range")
                }
                node.deviceMajor = UInt32(major); node.deviceMinor = UInt32(minor)
            case .fifo, .socket: break
            }
            if v >= versionWithXattrs {
                for _ in 0..<(try r.count(elementsOfAtLeast: 3)) {
                    let x = ExtendedAttribute(name: try r.data(), value: try r.data())
                    guard !x.name.isEmpty, !x.name.contains(0) else { throw FormatError.invalid(what: what, reason: "empty or NUL extended attribute name") }
                    if let last = node.xattrs.last, !last.name.lexicographicallyPrecedes(x.name) {
                        throw FormatError.invalid(what: what, reason: "extended attributes are not sorted or not unique")
                    }
                    node.xattrs.append(x)
                }
            }
            nodes.append(node)
        }
        try r.expectEnd()
        // One encoding per tree: the lowest version that holds it.
        if v == versionWithWideTimes && !nodes.contains(where: { $0.needsWideTimes }) {
            throw FormatError.invalid(what: what, reason: "version 4 tree whose times all fit i64 nanoseconds")
        }
        if v == versionWithXattrs && !nodes.contains(where: { !$0.xattrs.isEmpty }) {
            throw FormatError.invalid(what: what, reason: "version 2 tree without extended attributes")
        }
        if v == versionWithSpecialFiles && !nodes.contains(where: { $0.kind.isSpecial }) {
            throw FormatError.invalid(what: what, reason: "version 3 tree without a FIFO, device or socket")
        }
        for i in nodes.indices.dropFirst() where !nodes[i - 1].name.lexicographicallyPrecedes(nodes[i].name) {
            throw FormatError.invalid(what: what, reason: "entries are not sorted or not unique")
        }
        return Tree(nodes: nodes)
    }
}

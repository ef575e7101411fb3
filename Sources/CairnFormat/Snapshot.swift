/// The manifest of one backup: the commit point. Stored encrypted as a
/// `snapshots/` object whose name (the SHA-256 of the stored bytes) is the
/// snapshot id.
public struct Snapshot: Hashable, Sendable {
    public static let version: UInt8 = 1
    /// Nanoseconds since the Unix epoch, UTC.
    public var timeNanos: Int64
    public var name: String
    public var host: String
    public var user: String
    public var tags: [String]
    /// What was backed up, as given on the command line (or "-" for stdin).
    public var paths: [String]
    /// What the root holds: `.tree` for files and directories, `.stream` for one byte stream.
    public var sourceKind: SourceKind
    public var root: ChunkID
    public var parent: SnapshotID?
    public var logicalBytes: UInt64
    public var fileCount: UInt64
    public var directoryCount: UInt64
    /// Plaintext bytes of chunks this backup added to the repository.
    public var newBytes: UInt64
    /// Free-form facts recorded by a source (server version, dump duration, ...).
    public var extra: [String: String]
    public var programVersion: String

    public init(timeNanos: Int64, name: String, host: String, user: String = "", tags: [String] = [], paths: [String] = [],
                sourceKind: SourceKind, root: ChunkID, parent: SnapshotID? = nil, logicalBytes: UInt64 = 0, fileCount: UInt64 = 0,
                directoryCount: UInt64 = 0, newBytes: UInt64 = 0, extra: [String: String] = [:], programVersion: String = "") {
        self.timeNanos = timeNanos; self.name = name; self.host = host; self.user = user; self.tags = tags
        self.paths = paths; self.sourceKind = sourceKind; self.root = root; self.parent = parent
        self.logicalBytes = logicalBytes; self.fileCount = fileCount; self.directoryCount = directoryCount
        self.newBytes = newBytes; self.extra = extra; self.programVersion = programVersion
    }

    public func encoded() -> [UInt8] {
        var w = ByteWriter()
        w.u8(Self.version); w.i64(timeNanos); w.string(name); w.string(host); w.string(user)
        w.varint(tags.count); for t in tags { w.string(t) }
        w.varint(paths.count); for p in paths { w.string(p) }
        w.string(sourceKind.rawValue); w.id(root)
        if let parent { w.u8(1); w.id(parent) } else { w.u8(0) }
        w.varint(logicalBytes); w.varint(fileCount); w.varint(directoryCount); w.varint(newBytes)
        // Sorted by UTF-8 bytes (not by `String` order, which compares
        // canonical equivalents), so the order is the same in any language.
        let pairs = extra.sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
        w.varint(pairs.count); for (k, v) in pairs { w.string(k); w.string(v) }
        w.string(programVersion)
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws -> Snapshot {
        let what = "snapshot"
        var r = ByteReader(bytes, what: what)
        let v = try r.u8()
        guard v == version else { throw FormatError.unsupportedVersion(what: what, version: Int(v), supported: Int(version)) }
        let time = try r.i64()
        let name = try r.string(), host = try r.string(), user = try r.string()
        var tags: [String] = []; for _ in 0..<(try r.count(elementsOfAtLeast: 1)) { tags.append(try r.string()) }
        var paths: [String] = []; for _ in 0..<(try r.count(elementsOfAtLeast: 1)) { paths.append(try r.string()) }
        let kind = try r.string(); let root = try r.id()
        let hasParent = try r.u8()
        let parent: SnapshotID? = hasParent == 1 ? try r.id(SnapshotID.self) : nil
        guard hasParent <= 1 else { throw FormatError.invalid(what: what, reason: "bad parent flag") }
        var s = Snapshot(timeNanos: time, name: name, host: host, user: user, tags: tags, paths: paths,
                         sourceKind: SourceKind(rawValue: kind), root: root, parent: parent)
        s.logicalBytes = try r.varint(); s.fileCount = try r.varint(); s.directoryCount = try r.varint(); s.newBytes = try r.varint()
        var previousKey: [UInt8]? = nil
        for _ in 0..<(try r.count(elementsOfAtLeast: 2)) {
            let k = try r.string()
            let keyBytes = Array(k.utf8)
            // Strictly increasing bytes, and no two keys `String` deems equal
            // (canonically equivalent spellings would collapse into one entry).
            guard previousKey.map({ $0.lexicographicallyPrecedes(keyBytes) }) ?? true, s.extra[k] == nil else {
                throw FormatError.invalid(what: what, reason: "extra keys are not sorted or not unique")
            }
            previousKey = keyBytes
            s.extra[k] = try r.string()
        }
        s.programVersion = try r.string()
        try r.expectEnd()
        return s
    }
}

/// One pack as recorded in an index delta.
public struct IndexedPack: Hashable, Sendable {
    public var id: ChunkID
    public var type: PackType
    public var size: UInt64
    public var entries: [BlobEntry]
    public init(id: ChunkID, type: PackType, size: UInt64, entries: [BlobEntry]) {
        self.id = id; self.type = type; self.size = size; self.entries = entries
    }
}

/// The plaintext of an `index/` object: which blobs live in which packs.
///
/// Deltas are written during a backup (checkpoints) and before its snapshot;
/// together they describe every pack a snapshot needs. `supersedes` names
/// older deltas that this one replaces (used when the index is compacted).
public struct IndexDelta: Hashable, Sendable {
    public static let version: UInt8 = 1
    public var packs: [IndexedPack]
    public var supersedes: [ChunkID]

    public init(packs: [IndexedPack], supersedes: [ChunkID] = []) { self.packs = packs; self.supersedes = supersedes }

    public func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: 64 + packs.reduce(0) { $0 + 48 + $1.entries.count * 44 })
        w.u8(Self.version)
        w.varint(supersedes.count); for s in supersedes { w.id(s) }
        w.varint(packs.count)
        for p in packs {
            w.id(p.id); w.u8(p.type.rawValue); w.varint(p.size); w.varint(p.entries.count)
            for e in p.entries { e.encode(into: &w) }
        }
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws -> IndexDelta {
        let what = "index delta"
        var r = ByteReader(bytes, what: what)
        let v = try r.u8()
        guard v == version else { throw FormatError.unsupportedVersion(what: what, version: Int(v), supported: Int(version)) }
        var supersedes: [ChunkID] = []
        for _ in 0..<(try r.count(max: r.remaining / 32)) { supersedes.append(try r.id()) }
        var packs: [IndexedPack] = []
        for _ in 0..<(try r.count(max: r.remaining)) {
            let id = try r.id()
            let t = try r.u8()
            guard let type = PackType(rawValue: t) else { throw FormatError.invalid(what: what, reason: "unknown pack type \(t)") }
            let size = try r.varint()
            var entries: [BlobEntry] = []
            for _ in 0..<(try r.count(max: r.remaining)) { entries.append(try BlobEntry.decode(from: &r, what: what)) }
            packs.append(IndexedPack(id: id, type: type, size: size, entries: entries))
        }
        try r.expectEnd()
        return IndexDelta(packs: packs, supersedes: supersedes)
    }
}

/// One pack as recorded in an index delta.
public struct IndexedPack: Hashable, Sendable {
    public var id: PackID
    public var type: PackType
    public var size: UInt64
    public var entries: [BlobEntry]
    public init(id: PackID, type: PackType, size: UInt64, entries: [BlobEntry]) {
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
    public var supersedes: [IndexObjectID]

    public init(packs: [IndexedPack], supersedes: [IndexObjectID] = []) { self.packs = packs; self.supersedes = supersedes }

    /// The most plaintext a writer puts in one delta (format-spec §10): a reader
    /// refuses index objects over 256 MiB, far above this.
    public static let writerTargetBytes = 16 << 20

    /// `packs` as deltas of at most about `maximumBytes` each (whole packs; a
    /// pack larger than that gets a delta of its own), `supersedes` in the last
    /// one only: written in order, a reader that sees the superseding delta
    /// knows that every other part is already stored.
    public static func parts(packs: [IndexedPack], supersedes: [IndexObjectID] = [], maximumBytes: Int = writerTargetBytes) -> [IndexDelta] {
        var out: [IndexDelta] = [], current: [IndexedPack] = [], bytes = 0
        for p in packs {
            let size = estimatedBytes(p)
            if startsNewPart(packs: current.count, bytes: bytes, adding: size, maximumBytes: maximumBytes) {
                out.append(IndexDelta(packs: current)); current = []; bytes = 0
            }
            current.append(p); bytes += size
        }
        out.append(IndexDelta(packs: current, supersedes: supersedes))
        return out
    }

    /// Whether a pack of `size` estimated bytes goes into a new part rather than the one
    /// holding `packs` packs of `bytes`: the rule `parts` and `IndexDeltaWriter` cut by.
    public static func startsNewPart(packs: Int, bytes: Int, adding size: Int, maximumBytes: Int = writerTargetBytes) -> Bool {
        packs > 0 && bytes + size > maximumBytes
    }

    /// About what a pack takes in an encoded delta (an upper bound: 85 bytes an entry).
    public static func estimatedBytes(_ pack: IndexedPack) -> Int { 64 + pack.entries.count * 85 }

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
        var supersedes: [IndexObjectID] = []
        for _ in 0..<(try r.count(elementsOfAtLeast: IndexObjectID.byteCount)) { supersedes.append(try r.id(IndexObjectID.self)) }
        var packs: [IndexedPack] = []
        // A pack takes at least its id, type, size and count (35 bytes); an entry at least 36.
        for _ in 0..<(try r.count(elementsOfAtLeast: ChunkID.byteCount + 3)) {
            let id = try r.id(PackID.self)
            let t = try r.u8()
            guard let type = PackType(rawValue: t) else { throw FormatError.invalid(what: what, reason: "unknown pack type \(t)") }
            let size = try r.varint()
            // The local index keeps sizes as SQLite's signed 64-bit integers.
            guard size <= UInt64(Int64.max) else { throw FormatError.invalid(what: what, reason: "pack size out of range") }
            var entries: [BlobEntry] = []
            for _ in 0..<(try r.count(elementsOfAtLeast: BlobEntry.minimumBytes)) { entries.append(try BlobEntry.decode(from: &r, what: what)) }
            packs.append(IndexedPack(id: id, type: type, size: size, entries: entries))
        }
        try r.expectEnd()
        return IndexDelta(packs: packs, supersedes: supersedes)
    }
}

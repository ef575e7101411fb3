/// The plaintext of a snapshot catalogue: a `snapshots/` object of format
/// version 2 (envelope `CRNS`, version 2; format-spec v2.md) that holds many
/// snapshots, so that a repository of 45,000 archived WAL files lists and
/// reads a few dozen objects instead of 45,000.
///
/// Each entry keeps the snapshot's id (the name of the object it was
/// committed as: ids never change) and its plaintext (format-spec §13). The
/// catalogue is sealed with the metadata key, so only a holder of the master
/// key can write one, and its entries are as authentic as a single snapshot.
public struct SnapshotCatalogue: Hashable, Sendable {
    public static let version: UInt8 = 1
    /// The most snapshots a writer puts in one catalogue.
    public static let maximumEntries = 1 << 16

    public struct Entry: Hashable, Sendable {
        /// The snapshot id.
        public var id: SnapshotID
        /// The snapshot's plaintext (format-spec §13), byte for byte as committed.
        public var plaintext: [UInt8]
        public init(id: SnapshotID, plaintext: [UInt8]) { self.id = id; self.plaintext = plaintext }
    }

    /// Entries in strictly increasing order of id (one encoding per set of snapshots).
    public var entries: [Entry]

    /// Sorts `entries` by id and keeps one entry per id (the first).
    public init(entries: [Entry]) {
        var seen = Set<SnapshotID>()
        self.entries = entries.sorted { $0.id < $1.id }.filter { seen.insert($0.id).inserted }
    }

    public func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: 8 + entries.reduce(0) { $0 + 36 + $1.plaintext.count })
        w.u8(Self.version)
        w.varint(entries.count)
        for e in entries { w.id(e.id); w.data(e.plaintext) }
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws -> SnapshotCatalogue {
        let what = "snapshot catalogue"
        var r = ByteReader(bytes, what: what)
        let v = try r.u8()
        guard v == version else { throw FormatError.unsupportedVersion(what: what, version: Int(v), supported: Int(version)) }
        // An entry takes at least its id and a one-byte length.
        let entries = try r.idOrderedEntries(elementsOfAtLeast: 33) { (id: SnapshotID, r) in Entry(id: id, plaintext: try r.data()) }
        try r.expectEnd()
        var c = SnapshotCatalogue(entries: [])
        c.entries = entries
        return c
    }
}

/// The plaintext of a merged forget record: a `forgotten/` object of format
/// version 2 (envelope `CRNF`, version 2; format-spec v2.md) that holds what
/// many forget records said, each snapshot id with the time it was removed.
/// Forget records are never deleted (format-spec §20); merging keeps their
/// number, not their content, bounded.
public struct ForgetRecordSet: Hashable, Sendable {
    public static let version: UInt8 = 1
    /// The most ids a writer puts in one merged record (40 bytes each: far under the 64 MiB a reader accepts).
    public static let maximumEntries = 1 << 20

    public struct Entry: Hashable, Sendable {
        public var id: SnapshotID
        /// When it was removed, ns since the Unix epoch, UTC.
        public var timeNanos: Int64
        public init(id: SnapshotID, timeNanos: Int64) { self.id = id; self.timeNanos = timeNanos }
    }

    /// Strictly increasing by id.
    public var entries: [Entry]

    /// Sorts by id; an id given twice keeps its latest time.
    public init(entries: [Entry]) {
        var latest: [SnapshotID: Int64] = [:]
        for e in entries { latest[e.id] = max(latest[e.id] ?? .min, e.timeNanos) }
        self.entries = latest.map { Entry(id: $0.key, timeNanos: $0.value) }.sorted { $0.id < $1.id }
    }

    public func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: 8 + 40 * entries.count)
        w.u8(Self.version)
        w.varint(entries.count)
        for e in entries { w.id(e.id); w.i64(e.timeNanos) }
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws -> ForgetRecordSet {
        let what = "merged forget record"
        var r = ByteReader(bytes, what: what)
        let v = try r.u8()
        guard v == version else { throw FormatError.unsupportedVersion(what: what, version: Int(v), supported: Int(version)) }
        let entries = try r.idOrderedEntries(elementsOfAtLeast: 40) { (id: SnapshotID, r) in Entry(id: id, timeNanos: try r.i64()) }
        try r.expectEnd()
        var s = ForgetRecordSet(entries: [])
        s.entries = entries
        return s
    }
}

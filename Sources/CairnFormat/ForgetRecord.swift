/// The plaintext of a forget record (`forgotten/<name>`, format-spec §20):
/// the snapshots a `forget` (or a snapshot repair) removed. Sealed with the
/// metadata key, so only a holder of the master key can write one: a
/// snapshot object put back into the store by someone who kept a copy (a
/// replay) is recognised as forgotten, not taken for a new backup.
public struct ForgetRecord: Hashable, Sendable {
    public static let version: UInt8 = 1
    /// Snapshot ids a writer puts in one record, far under the 64 MiB a reader accepts.
    public static let maximumIDs = 1 << 20

    /// When the snapshots were removed, ns since the Unix epoch, UTC.
    public var timeNanos: Int64
    /// Their ids (the SHA-256 names of their objects).
    public var snapshots: [SnapshotID]

    public init(timeNanos: Int64, snapshots: [SnapshotID]) { self.timeNanos = timeNanos; self.snapshots = snapshots }

    public func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: 16 + 32 * snapshots.count)
        w.u8(Self.version); w.i64(timeNanos); w.varint(snapshots.count)
        for id in snapshots { w.id(id) }
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws -> ForgetRecord {
        let what = "forget record"
        var r = ByteReader(bytes, what: what)
        let v = try r.u8()
        guard v == version else { throw FormatError.unsupportedVersion(what: what, version: Int(v), supported: Int(version)) }
        let time = try r.i64()
        let n = try r.count(elementsOfAtLeast: 32)
        var ids: [SnapshotID] = []
        ids.reserveCapacity(min(n, 1024))
        for _ in 0..<n { ids.append(try r.id(SnapshotID.self)) }
        try r.expectEnd()
        return ForgetRecord(timeNanos: time, snapshots: ids)
    }
}

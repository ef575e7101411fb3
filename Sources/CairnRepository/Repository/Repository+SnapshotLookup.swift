import CairnFormat

extension Repository {
    /// One snapshot by its full id from the cache, without decoding every
    /// other snapshot (sources with many snapshots of one name, such as
    /// archived WAL files, look theirs up one at a time).
    public func snapshot(id: SnapshotID) throws -> SnapshotRecord? {
        guard let plain = try index.snapshotPlaintext(id: id.hex) else { return nil }
        return SnapshotRecord(id: id, snapshot: try Snapshot.decode(plain))
    }
}

import CairnFormat
import CairnIndex

extension Repository {
    /// One snapshot by its full id from the cache, without decoding every
    /// other snapshot (sources with many snapshots of one name, such as
    /// archived WAL files, look theirs up one at a time).
    public func snapshot(id: SnapshotID) throws -> SnapshotRecord? {
        guard let plain = try index.snapshotPlaintext(id: id.hex) else { return nil }
        return SnapshotRecord(id: id, snapshot: try Snapshot.decode(plain))
    }

    /// Every snapshot, oldest first; with `name`, those of that name only (an indexed query).
    public func snapshots(name: String? = nil) throws -> [SnapshotRecord] {
        try records(try index.snapshotRows(name: name))
    }

    /// The snapshots of any name whose `extra[key]` is `value`, oldest first (an indexed query).
    public func snapshots(extra key: Snapshot.ExtraKey, value: String) throws -> [SnapshotRecord] {
        try records(try index.snapshotRows(attribute: key.rawValue, value: value))
    }

    /// The newest snapshot (of one name, and of one source kind, when given), from one indexed row.
    public func latestSnapshot(name: String? = nil, sourceKind: Snapshot.SourceKind? = nil) throws -> SnapshotRecord? {
        try index.latestSnapshot(name: name, sourceKind: sourceKind?.rawValue).flatMap { try records([$0]).first }
    }

    /// Decoded rows; a row that no longer decodes (written by a newer Cairn) is left out, as is
    /// one whose id is no snapshot id (the cache holds ids as hex; it is rebuilt from the store).
    private func records(_ rows: [SnapshotRow]) throws -> [SnapshotRecord] {
        rows.compactMap { row in
            guard let id = SnapshotID(hex: row.id), let snapshot = try? Snapshot.decode(row.plaintext) else { return nil }
            return SnapshotRecord(id: id, snapshot: snapshot)
        }
    }

    /// Resolves an id, a unique id prefix, or `latest` (optionally of one name).
    /// Neither decodes more than the snapshots it returns.
    public func resolveSnapshot(_ spec: String, name: String? = nil) throws -> SnapshotRecord {
        if spec == "latest" {
            guard let last = try latestSnapshot(name: name) else {
                throw CairnError.snapshotNotFound(name.map { "latest of \($0)" } ?? "latest")
            }
            return last
        }
        let prefix = spec.lowercased()
        let matches = spec.isEmpty ? [] : try records(try index.snapshotRows(idPrefix: prefix, name: name))
        guard let first = matches.first else {
            // An id whose object is in the store but was refused says so, rather than "no such snapshot".
            if !spec.isEmpty, let (id, why) = damagedSnapshots.withLock({ $0.first { $0.key.hasPrefix(prefix) } }) {
                throw CairnError.damagedObject("snapshot \(id.prefix(12)) (snapshots/\(id))", "\(why); it cannot be used: run 'cairn scrub'")
            }
            throw CairnError.snapshotNotFound(spec)
        }
        guard matches.count == 1 else { throw CairnError.ambiguousSnapshot(spec, matches.map { String($0.id.hex.prefix(12)) }) }
        return first
    }
}

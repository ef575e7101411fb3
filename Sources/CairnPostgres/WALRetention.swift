import CairnEngine
import CairnRepository
import CairnFormat

/// WAL retention: an archived WAL file is needed only from the start of the
/// oldest base backup that is kept. After `cairn forget` has chosen which
/// base backups stay, WAL files older than the oldest kept one's start
/// segment (on any timeline) can go; timeline history files stay forever,
/// and an archive with no kept base backup is left untouched (nothing says
/// what it is needed for, so nothing is assumed).
public enum WALRetention {
    /// One WAL file that may be removed, and why.
    public struct Removal: Sendable {
        public let snapshotID: SnapshotID
        public let file: String
        public let reason: String
    }

    /// Archived WAL files are kept by what the base backups need, never by a calendar policy
    /// (the PostgreSQL WAL source registers this rule: `SourceAdapter.separateRetention`).
    public static let separateRetention = SeparateRetention(what: "archived WAL files") { $0.extra[WALArchive.Key.file] != nil }

    /// The WAL snapshots not needed by any kept base backup.
    /// - Parameters:
    ///   - snapshots: every snapshot of the repository.
    ///   - kept: the ids that stay after the forget.
    public static func removable(snapshots: [SnapshotRecord], kept: Set<SnapshotID>) -> [Removal] {
        let bases = snapshots.filter { kept.contains($0.id) }.compactMap { BaseBackupRecord($0) }
        var out: [Removal] = []
        for (walName, group) in Dictionary(grouping: bases, by: \.walName) {
            guard let oldest = group.min(by: { $0.start < $1.start }) else { continue }
            let startSegment = oldest.start.segment(size: oldest.segmentSize)
            for r in snapshots where r.snapshot.name == walName && kept.contains(r.id) {
                guard let fileName = r.snapshot.extra[WALArchive.Key.file], let file = WALFileName(fileName),
                      file.kind != .history else { continue }
                if file.segmentNumber(segmentSize: oldest.segmentSize) < startSegment {
                    out.append(Removal(snapshotID: r.id, file: fileName,
                                       reason: "older than the oldest kept base backup \(oldest.record.id.prefix(8)) (start \(oldest.start))"))
                }
            }
        }
        return out.sorted { $0.file < $1.file }
    }
}

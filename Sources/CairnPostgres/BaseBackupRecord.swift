import CairnFormat
import CairnEngine
import CairnRepository

/// A base backup snapshot with the facts its `extra` records.
public struct BaseBackupRecord: Sendable {
    public var record: SnapshotRecord
    public var systemID: String
    public var timeline: UInt32
    public var start: LSN
    public var stop: LSN
    public var stopTimeNanos: Int64
    public var walName: String
    public var segmentSize: UInt64
    /// True for a streamed base backup: one tar stream (`pg_basebackup -Ft`) rather than a data directory tree.
    public var isTarStream: Bool

    /// Nil unless the snapshot is a complete base backup.
    public init?(_ r: SnapshotRecord) {
        let e = r.snapshot.extra
        guard e[BaseBackup.Key.kind] == Snapshot.PGKind.base, let sys = e[BaseBackup.Key.systemID],
              let tli = e[BaseBackup.Key.timeline].flatMap({ UInt32($0) }),
              let start = e[BaseBackup.Key.startLSN].flatMap({ LSN($0) }), let stop = e[BaseBackup.Key.stopLSN].flatMap({ LSN($0) }),
              let walName = e[BaseBackup.Key.walName] else { return nil }
        record = r; systemID = sys; timeline = tli; self.start = start; self.stop = stop; self.walName = walName
        stopTimeNanos = e[BaseBackup.Key.stopTime].flatMap { Int64($0) } ?? r.snapshot.timeNanos
        segmentSize = e[BaseBackup.Key.segmentSize].flatMap { UInt64($0) } ?? (16 << 20)
        isTarStream = e[BaseBackup.Key.format] == "tar"
    }

    /// The base backups of a repository that rely on WAL name `walName`, oldest first.
    public static func all(in repo: Repository, walName: String) throws -> [BaseBackupRecord] {
        try repo.snapshots(extra: .pgKind, value: Snapshot.PGKind.base).compactMap { BaseBackupRecord($0) }.filter { $0.walName == walName }
    }
}

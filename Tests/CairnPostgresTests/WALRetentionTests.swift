import CairnEngine
import CairnRepository
import CairnCrypto
import CairnFormat
import CairnOps
@testable import CairnPostgres
import XCTest

/// `cairn forget` removes archived WAL older than the oldest kept base backup, keeps history files.
final class WALRetentionTests: XCTestCase {
    let root = ChunkID(bytes: [UInt8](repeating: 0, count: 32))!

    /// A distinct snapshot id per label.
    static func snapshotID(_ label: String) -> SnapshotID { SHA256.snapshotID(Array(label.utf8)) }

    func base(_ id: String, start: String) -> SnapshotRecord {
        var s = Snapshot(timeNanos: 0, name: "pg-base", host: "db", sourceKind: "tree", root: root)
        s.extra = [BaseBackup.Key.kind: "base", BaseBackup.Key.systemID: "7", BaseBackup.Key.timeline: "1",
                   BaseBackup.Key.startLSN: start, BaseBackup.Key.stopLSN: start, BaseBackup.Key.walName: "pg-wal",
                   BaseBackup.Key.segmentSize: String(16 << 20)]
        XCTAssertFalse(SourceRegistry.separateRetentions.contains { $0.covers(s) }, "base backups follow forget's policy")
        return SnapshotRecord(id: Self.snapshotID(id), snapshot: s)
    }

    func wal(_ file: String) -> SnapshotRecord {
        var s = Snapshot(timeNanos: 0, name: "pg-wal", host: "db", sourceKind: "stream", root: root)
        s.extra = [WALArchive.Key.file: file]
        XCTAssertTrue(SourceRegistry.separateRetentions.contains { $0.covers(s) }, "forget's policy must leave archived WAL alone")
        return SnapshotRecord(id: Self.snapshotID("w-" + file), snapshot: s)
    }

    func testWALOlderThanTheOldestKeptBaseBackupGoesHistoryStays() {
        // Base backups starting in segments 3 and 6 of timeline 1; the older one is forgotten.
        let b1 = base("b1", start: "0/3000028"), b2 = base("b2", start: "0/6000060")
        let files = ["000000010000000000000002", "000000010000000000000003", "000000010000000000000005",
                     "000000010000000000000005.00000028.backup", "000000010000000000000006", "000000020000000000000004.partial",
                     "00000002.history", "000000020000000000000007"]
        let all = [b1, b2] + files.map(wal)
        let ids = Set(all.map(\.id))
        // Both bases kept: only what precedes segment 3 goes.
        XCTAssertEqual(WALRetention.removable(snapshots: all, kept: ids).map(\.file), ["000000010000000000000002"])
        // b1 forgotten: everything before segment 6 on any timeline goes, except the history file.
        let removed = WALRetention.removable(snapshots: all, kept: ids.subtracting([b1.id])).map(\.file)
        XCTAssertEqual(removed, ["000000010000000000000002", "000000010000000000000003", "000000010000000000000005",
                                 "000000010000000000000005.00000028.backup", "000000020000000000000004.partial"])
        XCTAssertFalse(removed.contains("00000002.history"))
        // No base backup kept: the archive is left alone.
        XCTAssertEqual(WALRetention.removable(snapshots: all, kept: ids.subtracting([b1.id, b2.id])).count, 0)
    }
}

import CairnEngine
import CairnRepository
import CairnCrypto
import CairnFormat
import CairnOps
@testable import CairnPostgres
import CairnStorage
import CairnTestSupport
import Foundation
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

    /// `cairn forget` end to end: the policy removes the older base backup, and the WAL only it
    /// needed goes in the same run (decided on the snapshots the forget decoded once), history
    /// files and the newer base's WAL stay; `--dry-run` says the same and removes nothing.
    func testForgetRemovesTheWALOnlyAForgottenBaseBackupNeeded() async throws {
        let dir = try makeTempDir("wal-forget")
        defer { try? FileManager.default.removeItem(at: dir) }
        let cairn = try CairnRunner(dir: dir)
        try cairn.ok(["init"])
        let repo = try await Repository.open(store: LocalStore(root: dir.appendingPathComponent("repo").path),
                                             passphrase: Array("redis test passphrase".utf8), cacheBase: dir.appendingPathComponent("forge-cache").path)
        let saver = BlobSaver(repo: repo)
        let emptyTree = try await saver.saveMetadata(.tree, Tree(nodes: []).encoded())
        try await saver.finish()
        var ids: [String: String] = [:]
        for (i, (label, start)) in [("b1", "0/3000028"), ("b2", "0/6000060")].enumerated() {
            var s = base(label, start: start).snapshot
            s.root = emptyTree
            s.timeNanos = Int64(1_700_000_000 + i * 86_400) * 1_000_000_000
            ids[label] = try await repo.saveSnapshot(s)
        }
        let files = ["000000010000000000000002", "000000010000000000000003", "000000010000000000000005", "00000002.history",
                     "000000010000000000000006", "000000010000000000000007"]
        for (i, f) in files.enumerated() {
            var s = wal(f).snapshot
            s.root = emptyTree
            s.timeNanos = Int64(1_700_000_000 + i) * 1_000_000_000
            ids[f] = try await repo.saveSnapshot(s)
        }
        let gone = ["000000010000000000000002", "000000010000000000000003", "000000010000000000000005"]

        let dry = try cairn.ok(["forget", "--keep-last", "1", "--dry-run", "--json"]).json()
        XCTAssertEqual(dry["removed"] as? [String], [ids["b1"]].compactMap { $0 })
        XCTAssertEqual((dry["wal_removed"] as? [[String: Any]])?.compactMap { $0["file"] as? String }, gone)
        XCTAssertEqual(try cairn.snapshotCount(), 8, "a dry run removes nothing")

        let out = try cairn.ok(["forget", "--keep-last", "1", "--json"]).json()
        XCTAssertEqual(out["removed"] as? [String], [ids["b1"]].compactMap { $0 })
        let walRemoved = (out["wal_removed"] as? [[String: Any]]) ?? []
        XCTAssertEqual(walRemoved.compactMap { $0["file"] as? String }, gone)
        XCTAssertEqual(walRemoved.compactMap { $0["id"] as? String }, gone.compactMap { ids[$0] })
        let left = try cairn.ok(["snapshots", "--json"]).out
        for f in gone { XCTAssertFalse(left.contains(ids[f] ?? "-"), "\(f) is forgotten") }
        for f in ["00000002.history", "000000010000000000000006", "000000010000000000000007", "b2"] {
            XCTAssertTrue(left.contains(ids[f] ?? "-"), "\(f) stays")
        }
        XCTAssertEqual(try cairn.snapshotCount(), 4)
    }
}

import CairnNode
import CairnTestSupport
import Foundation
import XCTest

/// The node's data directory through `cairn backup DIR`: daily re-backups read
/// only changed files and store only new tables; files changing during the read
/// are reported (exit 3); the signing-state guard; --exclude.
final class NodeDataTests: XCTestCase {
    var tmp: URL!
    var cairn: CairnRunner!

    override func setUpWithError() throws {
        cairn = try newRepository("node")
        tmp = cairn.dir
    }

    func testDailySeriesOfALevelDBLikeDirectoryStoresOnlyNewTables() throws {
        var node = NodeDirectory(root: tmp.appendingPathComponent("remesd"), seed: 42)
        let tableSize = 256 << 10
        try node.create(tables: 12, tableSize: tableSize)
        let first = try cairn.ok(["backup", node.root.path, "--name", "node", "--exclude", "LOCK", "--json"]).json()
        var report = "node directory daily series (3 databases, 12 → +3/-2 tables of ~256 KiB per day):\n"
        report += "  day 0: \(first["logical_bytes"] as? Int ?? 0) B logical, \(first["new_bytes"] as? Int ?? 0) B new\n"
        for day in 1...3 {
            try node.advanceDay(newTables: 3, tableSize: tableSize)
            let j = try cairn.ok(["backup", node.root.path, "--name", "node", "--exclude", "LOCK", "--json"]).json()
            let new = j["new_bytes"] as? Int ?? -1, files = j["files"] as? Int ?? -1, unchanged = j["unchanged_files"] as? Int ?? -1
            report += "  day \(day): \(j["logical_bytes"] as? Int ?? 0) B logical, \(new) B new (new tables \(node.newTableBytes) B), \(files - unchanged) of \(files) files read\n"
            // New tables, plus the small files that changed (3 MANIFESTs, 3 LOGs, the WAL's new tail, the state file).
            XCTAssertGreaterThanOrEqual(new, node.newTableBytes)
            XCTAssertLessThan(new, node.newTableBytes + 120_000, "day \(day) stored more than the new tables and small files")
            // Read: the 9 new tables + 3 MANIFEST + 3 LOG + wal + priv_validator_state.json; the rest is taken unread.
            XCTAssertEqual(files - unchanged, 9 + 3 + 3 + 1 + 1, "day \(day): \(j)")
        }
        print(report)
        // The last snapshot restores file for file; LOCK was excluded.
        let out = tmp.appendingPathComponent("restore")
        try cairn.ok(["restore", "latest", "--name", "node", "--target", out.path])
        let diff = try shell("diff -r --exclude=LOCK '\(node.root.path)' '\(URL(fileURLWithPath: out.path + node.root.path).path)'")
        XCTAssertEqual(diff.status, 0, diff.out)
        XCTAssertFalse(FileManager.default.fileExists(atPath: URL(fileURLWithPath: out.path + node.root.path + "/data/state.db/LOCK").path))
        // Modes and mtimes too.
        let stat = "cd '%@' && find . -path '*/LOCK' -prune -o -print0 | sort -z | xargs -0 stat -c '%%n %%a %%Y %%s'"
        let a = try shell(String(format: stat, node.root.path)), b = try shell(String(format: stat, URL(fileURLWithPath: out.path + node.root.path).path))
        XCTAssertEqual(a.out, b.out)
    }

    func testFileChangedDuringBackupIsReportedAndExits3() throws {
        let dir = tmp.appendingPathComponent("live")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try shell("head -c 24000000 /dev/urandom > '\(dir.path)/000001.log' && echo stable > '\(dir.path)/CURRENT'")
        // A writer appends to the log for as long as the backup runs.
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: "/bin/sh")
        writer.arguments = ["-c", "while :; do printf x >> '\(dir.path)/000001.log'; done"]
        try writer.run()
        defer { writer.terminate(); writer.waitUntilExit() }
        usleep(100_000)
        let r = try cairn.run(["backup", dir.path, "--name", "live", "--json"])
        XCTAssertEqual(r.status, 3, r.summary)
        XCTAssertTrue(r.err.contains("000001.log") && r.err.contains("changed while it was read"), r.summary)
        let j = try r.json()
        XCTAssertEqual(j["changed_during_backup"] as? [String], [dir.appendingPathComponent("000001.log").path])
        XCTAssertEqual(try cairn.snapshotCount(name: "live"), 1, "the snapshot is saved and marked")
        let snaps = try cairn.ok(["snapshots", "--json", "--name", "live"]).out
        _ = snaps
    }

    func testSigningStateGuardRefusesRollbackUnlessAllowed() throws {
        var node = NodeDirectory(root: tmp.appendingPathComponent("remesd"), seed: 9)
        try node.create(tables: 2, tableSize: 10_000)
        try cairn.ok(["backup", node.root.path, "--name", "node"]) // signing state at height 1000
        let target = tmp.appendingPathComponent("target")
        // Into an empty target: fine, with a warning for the key files.
        let first = try cairn.ok(["restore", "latest", "--name", "node", "--target", target.path])
        XCTAssertTrue(first.err.contains("priv_validator_key.json"), first.summary)
        XCTAssertTrue(first.err.contains("node_key.json"), first.summary)
        let state = URL(fileURLWithPath: target.path + node.root.path + "/data/priv_validator_state.json")
        XCTAssertEqual(try SigningState.parse([UInt8](Data(contentsOf: state))).height, 1000)

        // The validator moved on to height 5000; restoring the old snapshot would roll it back.
        let newer = Data("{\"height\":\"5000\",\"round\":1,\"step\":2}".utf8)
        try newer.write(to: state)
        try FileManager.default.removeItem(at: URL(fileURLWithPath: target.path + node.root.path + "/config/genesis.json"))
        let refused = try cairn.fails(["restore", "latest", "--name", "node", "--target", target.path])
        XCTAssertTrue(refused.err.contains("double-sign") && refused.err.contains("height 5000"), refused.summary)
        XCTAssertEqual(try Data(contentsOf: state), newer, "the newer signing state was touched")
        XCTAssertFalse(FileManager.default.fileExists(atPath: URL(fileURLWithPath: target.path + node.root.path + "/config/genesis.json").path),
                       "a refused restore wrote other files")
        // Restoring other paths only is fine.
        try cairn.ok(["restore", "latest", "--name", "node", "--target", target.path, "--include", node.root.path + "/config"])
        XCTAssertEqual(try Data(contentsOf: state), newer)
        // With the flag it goes through, loudly.
        let allowed = try cairn.ok(["restore", "latest", "--name", "node", "--target", target.path, "--allow-signing-state-rollback"])
        XCTAssertTrue(allowed.err.contains("allowed by --allow-signing-state-rollback"), allowed.summary)
        XCTAssertEqual(try SigningState.parse([UInt8](Data(contentsOf: state))).height, 1000)
        // An older state on disk is simply replaced by the newer one in the snapshot.
        try Data("{\"height\":\"10\",\"round\":0,\"step\":1}".utf8).write(to: state)
        try cairn.ok(["restore", "latest", "--name", "node", "--target", target.path])
        XCTAssertEqual(try SigningState.parse([UInt8](Data(contentsOf: state))).height, 1000)
    }

    func testSigningStateParsingAndOrder() throws {
        let s = try SigningState.parse(Array("{\"height\":\"12\",\"round\":3,\"step\":2,\"signature\":null}".utf8))
        XCTAssertEqual(s, SigningState(height: 12, round: 3, step: 2))
        XCTAssertEqual(try SigningState.parse(Array("{\"height\":12,\"round\":\"0\",\"step\":1}".utf8)).height, 12)
        XCTAssertLessThan(SigningState(height: 12, round: 3, step: 2), SigningState(height: 12, round: 3, step: 3))
        XCTAssertLessThan(SigningState(height: 12, round: 9, step: 3), SigningState(height: 13, round: 0, step: 0))
        for bad in ["", "[]", "{\"height\":\"x\",\"round\":0,\"step\":0}", "{\"round\":0,\"step\":0}", "{\"height\":1.5,\"round\":0,\"step\":0}"] {
            XCTAssertThrowsError(try SigningState.parse(Array(bad.utf8)), bad)
        }
    }
}

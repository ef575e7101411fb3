import Foundation
import XCTest

/// `cairn scrub` and `cairn repair` through the real binary: exit codes 0 / 4 / 1,
/// the JSON report, Prometheus metrics, and repair from a replica.
final class ScrubCommandTests: CLITestCase {
    func testScrubExitCodesJSONAndMetricsThenRepairFromReplica() throws {
        try initRepo(["--pack-size-mib", "1"])
        let data = TestData.random(3_000_000, seed: 77)
        let id = try backup(["--stdin", "--name", "db"], stdin: .data(data))["snapshot_id"] as! String
        let metrics = tmp.appendingPathComponent("scrub.prom")

        // Clean: exit 0, clean JSON, success metric 1.
        let clean = try ok(["scrub", "--read-data", "--json", "--metrics", metrics.path]).jsonObject()
        XCTAssertEqual(clean["clean"] as? Bool, true)
        XCTAssertGreaterThan(clean["bytes_verified"] as? Int ?? 0, 2_000_000)
        XCTAssertTrue(try String(contentsOf: metrics, encoding: .utf8).contains("cairn_scrub_success 1"))

        // A byte-for-byte replica, then damage: one flipped byte in the largest pack.
        let replica = tmp.appendingPathComponent("replica")
        _ = try Self.shell("cp -a \(Self.quote(repo.path)) \(Self.quote(replica.path))")
        let pack = try packFiles()[0]
        let handle = try FileHandle(forUpdating: pack)
        try handle.seek(toOffset: 1000)
        let byte = try handle.read(upToCount: 1)![0]
        try handle.seek(toOffset: 1000)
        try handle.write(contentsOf: Data([byte ^ 0x80]))
        try handle.close()

        // Structural scrub does not read blob bytes; --read-data finds it: exit 4, snapshot and path named.
        try ok(["scrub"])
        let damaged = try cli.run(["scrub", "--read-data", "--json", "--metrics", metrics.path])
        XCTAssertEqual(damaged.status, 4, damaged.summary)
        let report = try damaged.jsonObject()
        XCTAssertEqual(report["clean"] as? Bool, false)
        XCTAssertEqual(report["affected_snapshots"] as? [String], [id])
        let affected = (report["affected"] as? [[String: Any]]) ?? []
        XCTAssertEqual(affected.first?["path"] as? String, "/db")
        XCTAssertTrue(try String(contentsOf: metrics, encoding: .utf8).contains("cairn_scrub_success 0"))
        let human = try cli.run(["scrub", "--read-data"])
        XCTAssertEqual(human.status, 4)
        XCTAssertTrue(human.out.contains("breaks snapshot \(id.prefix(8)) (db) /db: bytes"), human.out)

        // Repair from the replica: exit 0, clean afterwards, restore is byte-identical.
        let repaired = try ok(["repair", "--from", replica.path, "--json"]).jsonObject()
        XCTAssertEqual(repaired["clean_after"] as? Bool, true)
        XCTAssertEqual((repaired["unrecoverable"] as? [String])?.count, 0)
        try ok(["scrub", "--read-data"])
        XCTAssertEqual(try restoreStdout(id), data)
    }

    func testScrubThatCannotRunExitsOneAndWritesMetrics() throws {
        let metrics = tmp.appendingPathComponent("m.prom")
        try fails(["scrub", "--metrics", metrics.path], code: 1)
        XCTAssertTrue(try String(contentsOf: metrics, encoding: .utf8).contains("cairn_scrub_ran 0"))
    }

    func testRepairSnapshotsKeepsWhatSurvives() throws {
        try initRepo(["--pack-size-mib", "1"])
        let data = TestData.random(2_500_000, seed: 5)
        let id = try backup(["--stdin", "--name", "db"], stdin: .data(data))["snapshot_id"] as! String
        // Lose a whole data pack with no replica anywhere.
        try FileManager.default.removeItem(at: try packFiles()[0])
        try fails(["scrub"], code: 4)
        let rewritten = try ok(["repair", "snapshots", "--json"]).jsonArray()
        XCTAssertEqual(rewritten.count, 1)
        XCTAssertEqual(rewritten.first?["old"] as? String, id)
        let newID = try XCTUnwrap(rewritten.first?["new"] as? String)
        let losses = (rewritten.first?["losses"] as? [String: String]) ?? [:]
        XCTAssertNotNil(losses["/db"])
        let restored = try restoreStdout(newID)
        XCTAssertEqual(restored.count, data.count, "lost chunks of known length are zero-filled, not dropped")
        let snaps = try snapshots()
        XCTAssertEqual(snaps.count, 1)
        XCTAssertTrue((snaps[0]["tags"] as? [String] ?? []).contains("repaired"))
    }

    /// Flips one byte inside the first blob of the largest pack.
    func damageLargestPack() throws {
        let pack = try packFiles()[0]
        let handle = try FileHandle(forUpdating: pack)
        try handle.seek(toOffset: 1000)
        let byte = try handle.read(upToCount: 1)![0]
        try handle.seek(toOffset: 1000)
        try handle.write(contentsOf: Data([byte ^ 0x80]))
        try handle.close()
    }

    /// Issue 17.7: after `repair snapshots` (run straight away, or after a `repair` that found
    /// no copy of the lost blob) `scrub --read-data` exits 0, the lost range is zeros of the
    /// right length, and a following `repair` has nothing to do and prints no "fetched from -".
    func testRepairedStateScrubsClean() throws {
        for repairFirst in [false, true] {
            cli.environment["CAIRN_REPO"] = tmp.appendingPathComponent("repo-\(repairFirst)").path
            cli.environment["CAIRN_CACHE_DIR"] = tmp.appendingPathComponent("cache-\(repairFirst)").path
            repo = tmp.appendingPathComponent("repo-\(repairFirst)")
            try initRepo(["--pack-size-mib", "1"])
            let data = TestData.random(2_500_000, seed: 17)
            let id = try backup(["--stdin", "--name", "db"], stdin: .data(data))["snapshot_id"] as! String
            try damageLargestPack()
            try fails(["scrub", "--read-data"], code: 4)
            if repairFirst {
                let r = try cli.run(["repair"])
                XCTAssertEqual(r.status, 4, r.summary)
                XCTAssertTrue(r.out.contains("exist nowhere"), r.summary)
                XCTAssertFalse(r.out.contains("fetched from -"), r.summary)
            }
            let rewritten = try ok(["repair", "snapshots"])
            XCTAssertTrue(rewritten.out.contains("rewritten as"), rewritten.summary)
            XCTAssertTrue(rewritten.out.contains("scrub after repair: clean"), rewritten.summary)
            XCTAssertTrue(rewritten.out.contains("zero-filled"), "the lost chunk's length is known: \(rewritten.summary)")
            let scrub = try ok(["scrub", "--read-data", "--json"]).jsonObject()
            XCTAssertEqual(scrub["clean"] as? Bool, true, "\(scrub)")
            let snaps = try snapshots()
            XCTAssertEqual(snaps.count, 1)
            let newID = try snaps[0].string("id")
            XCTAssertNotEqual(newID, id)
            let back = try restoreStdout(newID)
            XCTAssertEqual(back.count, data.count, "repairFirst \(repairFirst): same length")
            let differing = zip(back, data).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
            XCTAssertFalse(differing.isEmpty)
            if let lo = differing.first, let hi = differing.last {
                XCTAssertTrue(back[lo...hi].allSatisfy { $0 == 0 } || differing.allSatisfy { back[$0] == 0 }, "only zeros where data was lost")
            }
            let again = try ok(["repair"])
            XCTAssertTrue(again.out.contains("nothing to repair"), again.summary)
            XCTAssertFalse(again.out.contains("fetched from -"), again.summary)
        }
    }
}

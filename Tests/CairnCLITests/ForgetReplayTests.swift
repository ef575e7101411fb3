import Foundation
import XCTest

/// Issue 15.8: a snapshot `forget` removed, put back into the store by someone
/// who kept a copy of its object (a replay), is recognised: every command
/// ignores it with a warning, scrub names it, and prune removes it again
/// instead of stopping.
final class ForgetReplayTests: CLITestCase {
    func testAReplayedForgottenSnapshotIsIgnoredNamedAndPrunedAgain() throws {
        try initRepo(["--pack-size-mib", "1"])
        let a = TestData.random(1_500_000, seed: 151), b = TestData.random(1_500_000, seed: 152)
        let idA = try backup(["--stdin", "--name", "db"], stdin: .data(a)).string("snapshot_id")
        let object = repo.appendingPathComponent("snapshots").appendingPathComponent(idA)
        let saved = try Data(contentsOf: object)
        let idB = try backup(["--stdin", "--name", "db"], stdin: .data(b)).string("snapshot_id")
        try ok(["forget", "--keep-last", "1", "--prune"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: object.path))

        for round in 0..<2 {
            // The replay: the old object, byte for byte, under its own name.
            try saved.write(to: object)
            for fresh in [false, true] {
                if fresh { try? FileManager.default.removeItem(at: cache) }
                let listed = try ok(["snapshots", "--json"])
                XCTAssertEqual(try listed.jsonArray().map { try $0.string("id") }, [idB], "round \(round), fresh cache \(fresh)")
                XCTAssertTrue(listed.err.contains("in the store again"), listed.summary)
            }
            try fails(["restore", idA, "--stdout"], code: 1)
            let scrub = try fails(["scrub", "--json"], code: 4)
            let report = try scrub.jsonObject()
            let replayed = (report["replayed_snapshots"] as? [[String: Any]] ?? []).compactMap { $0["snapshot"] as? String }
            XCTAssertEqual(replayed, [idA], scrub.summary)
            XCTAssertTrue((report["advice"] as? String ?? "").contains("cairn prune"), scrub.summary)
            XCTAssertEqual((report["affected"] as? [Any])?.count, 0, "a replay is not damage to the live snapshots")
            // Prune proceeds (it used to stop at the replayed snapshot's pruned blobs) and removes it.
            let pruned = try ok(["prune", "--json"]).jsonObject()
            XCTAssertEqual(try pruned.int("replayed_snapshots_removed"), 1, "\(pruned)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: object.path))
            try ok(["scrub", "--read-data"])
            XCTAssertEqual(try restoreStdout(idB), b)
        }
    }

    /// A forget record someone without the key put there (it does not open) hides nothing.
    func testAForgedForgetRecordHidesNothing() throws {
        try initRepo()
        let data = TestData.random(300_000, seed: 153)
        let id = try backup(["--stdin", "--name", "db"], stdin: .data(data)).string("snapshot_id")
        let dir = repo.appendingPathComponent("forgotten")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // Envelope CRNF v1, then bytes that are no seal under this repository's key.
        var junk = Data("CRNF".utf8) + Data([1, 0])
        junk.append(TestData.random(80, seed: 154))
        try junk.write(to: dir.appendingPathComponent(String(repeating: "ab", count: 32)))
        XCTAssertEqual(try snapshots().map { try $0.string("id") }, [id])
        XCTAssertEqual(try restoreStdout(id), data)
        let scrub = try fails(["scrub", "--json"], code: 4)
        let problems = (try scrub.jsonObject()["damaged_objects"] as? [[String: Any]] ?? []).compactMap { $0["object"] as? String }
        XCTAssertTrue(problems.contains { $0.hasPrefix("forgotten/") }, scrub.summary)
        try ok(["prune"])
        XCTAssertEqual(try restoreStdout(id), data)
    }
}

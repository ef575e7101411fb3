import Foundation
import XCTest

/// Index damage is not data loss (issue 15.7): with two index objects' names
/// swapped and a third deleted, every pack is still there. Scrub must say
/// so and recommend `index rebuild --read-packs`; following that advice
/// recovers everything; `repair snapshots` run anyway must not zero-fill a
/// blob that a pack holds.
final class IndexDamageTests: CLITestCase {
    enum Expected { case tree(URL), stream(Data) }

    func makeSnapshots() throws -> [String: Expected] {
        try initRepo(["--pack-size-mib", "1"])
        var expected: [String: Expected] = [:]
        // A dump and the next day's (stored as deltas against the first): bases and deltas
        // end up named by different index objects.
        let day1 = TestData.random(1_000_000, seed: 600)
        var day2 = day1
        for i in stride(from: 0, to: day2.count, by: 8192) { day2[i] ^= 0xFF }
        expected[try backup(["--stdin", "--name", "db"], stdin: .data(day1)).string("snapshot_id")] = .stream(day1)
        let src = try makeDir("src")
        for round in 0..<3 {
            try write(TestData.random(700_000, seed: UInt64(300 + round)), to: src.appendingPathComponent("f\(round).bin"))
            try write(TestData.text(50_000, seed: UInt64(400 + round)), to: src.appendingPathComponent("dir/t\(round).txt"))
            let copy = tmp.appendingPathComponent("expected-\(round)")
            try FileManager.default.copyItem(at: src, to: copy)
            expected[try backup([src.path]).string("snapshot_id")] = .tree(copy)
        }
        expected[try backup(["--stdin", "--name", "db"], stdin: .data(day2)).string("snapshot_id")] = .stream(day2)
        let stream = TestData.random(900_000, seed: 500)
        expected[try backup(["--stdin", "--name", "stream"], stdin: .data(stream)).string("snapshot_id")] = .stream(stream)
        return expected
    }

    /// Swaps the names of two index objects and deletes a third.
    func damageIndex(_ repoDir: URL) throws {
        let dir = repoDir.appendingPathComponent("index")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        XCTAssertGreaterThanOrEqual(names.count, 3, "one index object per backup")
        let a = dir.appendingPathComponent(names[0]), b = dir.appendingPathComponent(names[1]), t = dir.appendingPathComponent("swap")
        try FileManager.default.moveItem(at: a, to: t)
        try FileManager.default.moveItem(at: b, to: a)
        try FileManager.default.moveItem(at: t, to: b)
        try FileManager.default.removeItem(at: dir.appendingPathComponent(names[2]))
    }

    func assertEverySnapshotRestores(_ expected: [String: Expected], _ context: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let listed = try snapshots(file: file, line: line)
        XCTAssertEqual(Set(try listed.map { try $0.string("id") }), Set(expected.keys), "\(context): the same snapshots", file: file, line: line)
        for s in listed { XCTAssertFalse((s["tags"] as? [String] ?? []).contains("repaired"), "\(context): nothing was rewritten", file: file, line: line) }
        for (id, e) in expected {
            switch e {
            case .stream(let d):
                XCTAssertTrue(try restoreStdout(id, file: file, line: line) == d, "\(context): stream \(id.prefix(8)) differs", file: file, line: line)
            case .tree(let want):
                let out = tmp.appendingPathComponent("restore-\(UUID().uuidString)")
                try ok(["restore", id, "--target", out.path], file: file, line: line)
                let diff = try Self.shell("diff -r \(Self.quote(want.path)) \(Self.quote(restored(tmp.appendingPathComponent("src"), under: out).path))")
                XCTAssertEqual(diff.status, 0, "\(context): snapshot \(id.prefix(8)) restores different files: \(diff.out)", file: file, line: line)
                try FileManager.default.removeItem(at: out)
            }
        }
    }

    func testScrubCallsIndexDamageByItsNameAndItsAdviceRecoversEverything() throws {
        let expected = try makeSnapshots()
        try damageIndex(repo)
        let copy = tmp.appendingPathComponent("damaged-copy")
        try FileManager.default.copyItem(at: repo, to: copy)

        // Scrub: index damage, no data lost, and the advice is the rebuild (not repair snapshots).
        let scrub = try fails(["scrub", "--read-data", "--json"], code: 4)
        let r = try scrub.jsonObject()
        XCTAssertEqual(r["index_damage"] as? Bool, true, scrub.summary)
        XCTAssertEqual((r["affected"] as? [Any])?.count, 0, "no data is lost: \(scrub.summary)")
        XCTAssertEqual((r["damaged_blobs"] as? [Any])?.count, 0, scrub.summary)
        XCTAssertGreaterThan((r["unindexed_blobs"] as? [Any])?.count ?? 0, 0, scrub.summary)
        let advice = r["advice"] as? String ?? ""
        XCTAssertTrue(advice.contains("cairn index rebuild --read-packs"), advice)
        XCTAssertTrue(advice.contains("no data is lost"), advice)
        XCTAssertTrue(scrub.err.contains("index damage"), scrub.summary)
        let human = try fails(["scrub"], code: 4)
        XCTAssertTrue(human.out.contains("INDEX DAMAGE"), human.summary)
        XCTAssertFalse(human.out.contains("repair with 'cairn repair"), "no repair advice for index damage: \(human.summary)")

        // Following the advice recovers everything, through a fresh cache too, and a prune keeps it all.
        try ok(["index", "rebuild", "--read-packs"])
        try ok(["scrub", "--read-data"])
        try FileManager.default.removeItem(at: cache)
        try assertEverySnapshotRestores(expected, "after index rebuild --read-packs")
        try ok(["prune"])
        try ok(["scrub", "--read-data"])
        try assertEverySnapshotRestores(expected, "after a prune")

        // 'repair snapshots' run on the damage anyway rebuilds the index first and zero-fills nothing.
        cli.environment["CAIRN_REPO"] = copy.path
        cli.environment["CAIRN_CACHE_DIR"] = tmp.appendingPathComponent("cache-copy").path
        let repaired = try ok(["repair", "snapshots"])
        XCTAssertTrue(repaired.out.contains("index damage: rebuilt the index"), repaired.summary)
        XCTAssertTrue(repaired.out.contains("no snapshot needs rewriting"), repaired.summary)
        try ok(["scrub", "--read-data"])
        try ok(["prune"])
        try assertEverySnapshotRestores(expected, "after repair snapshots on index damage")
    }
}

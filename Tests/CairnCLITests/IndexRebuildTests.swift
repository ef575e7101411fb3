import Foundation
import XCTest

/// `index rebuild` recreates the local index from the store alone.
final class IndexRebuildTests: CLITestCase {
    /// What each snapshot must restore to.
    enum Expected { case tree(TreeSnapshot), stream(Data) }

    func makeSnapshots() throws -> [String: Expected] {
        try initRepo(["--pack-size-mib", "1"])
        var expected: [String: Expected] = [:]
        let src = try makeDir("src")
        try write(TestData.random(1_500_000, seed: 101), to: src.appendingPathComponent("a.bin"))
        try write(TestData.text(400_000, seed: 102), to: src.appendingPathComponent("dir/b.txt"))
        try Posix.symlink("dir/b.txt", at: src.appendingPathComponent("link").path)
        expected[try backup([src.path]).string("snapshot_id")] = .tree(try TreeSnapshot.capture(src))
        try write(TestData.random(800_000, seed: 103), to: src.appendingPathComponent("dir/c.bin"))
        try FileManager.default.removeItem(at: src.appendingPathComponent("a.bin"))
        expected[try backup([src.path]).string("snapshot_id")] = .tree(try TreeSnapshot.capture(src))
        let stream = TestData.random(2_500_000, seed: 104)
        expected[try backup(["--stdin", "--name", "stream"], stdin: .data(stream)).string("snapshot_id")] = .stream(stream)
        return expected
    }

    func assertEverySnapshotRestores(_ expected: [String: Expected], _ context: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let listed = try snapshots(file: file, line: line).map { try $0.string("id") }
        XCTAssertEqual(Set(listed), Set(expected.keys), "\(context): snapshots", file: file, line: line)
        for (id, e) in expected {
            switch e {
            case .stream(let d):
                XCTAssertTrue(try restoreStdout(id, file: file, line: line) == d, "\(context): stream \(id.prefix(8)) differs", file: file, line: line)
            case .tree(let t):
                let out = tmp.appendingPathComponent("restore-\(UUID().uuidString)")
                try ok(["restore", String(id.prefix(12)), "--target", out.path], file: file, line: line)
                assertTreesEqual(t, try TreeSnapshot.capture(out.appendingPathComponent("src")), CompareOptions(), "\(context) \(id.prefix(8)):", file: file, line: line)
                try FileManager.default.removeItem(at: out)
            }
        }
    }

    func testRebuildAfterLosingTheCache() throws {
        let expected = try makeSnapshots()
        try FileManager.default.removeItem(at: cache)
        let r = try ok(["index", "rebuild", "--json"]).jsonObject()
        XCTAssertEqual(try r.int("snapshots"), 3, "\(r)")
        XCTAssertEqual(try r.int("packs"), try packFiles().count, "\(r)")
        XCTAssertGreaterThan(try r.int("blobs"), 0)
        XCTAssertEqual(try r.int("reindexed_packs"), 0, "every pack was already named by an index delta: \(r)")
        XCTAssertEqual((r["damaged_packs"] as? [Any])?.count, 0)
        try assertEverySnapshotRestores(expected, "after losing the cache")
        // Reading every pack header instead of the index objects gives the same index.
        try FileManager.default.removeItem(at: cache)
        let full = try ok(["index", "rebuild", "--read-packs", "--json"]).jsonObject()
        XCTAssertEqual(try full.int("packs"), try packFiles().count, "\(full)")
        XCTAssertEqual(try full.int("blobs"), try r.int("blobs"), "\(full)")
        XCTAssertEqual(try full.int("reindexed_packs"), 0, "\(full)")
        try assertEverySnapshotRestores(expected, "after rebuild --read-packs")
        // A backup after the rebuild dedups against everything.
        let again = try backup(["--stdin", "--name", "stream"], stdin: .data(TestData.random(2_500_000, seed: 104)))
        XCTAssertEqual(try again.int("new_bytes"), 0, "\(again)")
    }

    func testRebuildAfterLosingTheIndexObjects() throws {
        let expected = try makeSnapshots()
        let indexDir = repo.appendingPathComponent("index")
        let deltas = try FileManager.default.contentsOfDirectory(atPath: indexDir.path)
        XCTAssertGreaterThan(deltas.count, 0)
        for d in deltas { try FileManager.default.removeItem(at: indexDir.appendingPathComponent(d)) }

        // With the old cache still present.
        let r = try ok(["index", "rebuild", "--json"]).jsonObject()
        XCTAssertEqual(try r.int("reindexed_packs"), try packFiles().count, "every pack is named by a new delta: \(r)")
        XCTAssertEqual(try r.int("snapshots"), 3)
        try assertEverySnapshotRestores(expected, "after losing repo/index (cache kept)")

        // Both gone, then rebuilt (by default, and reading every pack header).
        for flags in [[], ["--read-packs"]] {
            for d in try FileManager.default.contentsOfDirectory(atPath: indexDir.path) { try FileManager.default.removeItem(at: indexDir.appendingPathComponent(d)) }
            try FileManager.default.removeItem(at: cache)
            let r2 = try ok(["index", "rebuild", "--json"] + flags).jsonObject()
            XCTAssertEqual(try r2.int("reindexed_packs"), try packFiles().count, "\(flags): \(r2)")
            try assertEverySnapshotRestores(expected, "after losing repo/index and the cache, rebuild \(flags)")
        }

        // The rebuild wrote deltas to the store: a fresh cache needs no rebuild.
        try FileManager.default.removeItem(at: cache)
        try assertEverySnapshotRestores(expected, "fresh cache after a rebuild")
        let r3 = try ok(["index", "rebuild", "--json"]).jsonObject()
        XCTAssertEqual(try r3.int("reindexed_packs"), 0, "\(r3)")
    }
}

import Foundation
import XCTest

/// `backup --stdin`, `restore --stdout`, the JSON outputs, and snapshot selection.
final class StreamAndJSONTests: CLITestCase {
    func testStdinRoundTripIsByteIdentical() throws {
        try initRepo()
        let random = TestData.random(4 << 20, seed: 31)
        let text = TestData.text(1 << 20, seed: 32)
        let r1 = try backup(["--stdin", "--name", "rand"], stdin: .data(random))
        let r2 = try backup(["--stdin", "--name", "text"], stdin: .data(text))
        let empty = try backup(["--stdin", "--name", "empty"], stdin: .data(Data()))
        for (r, size) in [(r1, random.count), (r2, text.count), (empty, 0)] {
            XCTAssertEqual(try r.string("snapshot_id").count, 64, "\(r)")
            XCTAssertEqual(try r.int("logical_bytes"), size, "\(r)")
            XCTAssertEqual(try r.int("new_bytes"), size, "\(r)")
            XCTAssertGreaterThanOrEqual(try r.double("seconds"), 0)
            XCTAssertEqual(try r.int("files"), 1)
            _ = try r.int("stored_bytes")
        }
        // Random data does not compress: stored ≈ logical. Text does.
        XCTAssertGreaterThanOrEqual(try r1.int("stored_bytes"), random.count)
        XCTAssertLessThan(try r2.int("stored_bytes"), text.count / 2, "text should compress: \(r2)")

        XCTAssertEqual(try restoreStdout("latest", name: "rand"), random)
        XCTAssertEqual(try restoreStdout("latest", name: "text"), text)
        XCTAssertEqual(try restoreStdout("latest", name: "empty"), Data())
        XCTAssertEqual(try restoreStdout(try r1.string("snapshot_id")), random)
        // --json on a stdout restore keeps standard output for the data.
        let j = try ok(["restore", try r2.string("snapshot_id"), "--stdout", "--json"])
        XCTAssertEqual(j.stdout, text)
        // A stream restores into a directory too, as a file named after the snapshot.
        let out = tmp.appendingPathComponent("out")
        try ok(["restore", "latest", "--name", "text", "--target", out.path])
        XCTAssertEqual(FileManager.default.contents(atPath: out.appendingPathComponent("text").path), text)
        // The human result line.
        let human = try ok(["backup", "--stdin", "--name", "h"], stdin: .data(Data("hello".utf8)))
        XCTAssertTrue(human.out.hasPrefix("snapshot "), human.summary)
        XCTAssertEqual(human.out.split(separator: "\n").count, 1, human.summary)
    }

    func testSnapshotsLsAndStatsJSON() throws {
        try initRepo()
        let data = TestData.random(2 << 20, seed: 33)
        let a = try backup(["--stdin", "--name", "db", "--tag", "nightly", "--tag", "pg", "--host", "db1", "--time", "2026-01-31T02:00:00Z"],
                           stdin: .data(data))
        let b = try backup(["--stdin", "--name", "db", "--host", "db1", "--time", "2026-02-01T02:00:00Z"], stdin: .data(data))
        XCTAssertEqual(try b.int("new_bytes"), 0, "the same bytes twice: \(b)")
        let src = try makeDir("tree")
        try write(TestData.text(10_000, seed: 34), to: src.appendingPathComponent("t.txt"))
        let c = try backup([src.path])

        let snaps = try snapshots()
        XCTAssertEqual(snaps.count, 3)
        let byID = Dictionary(uniqueKeysWithValues: try snaps.map { (try $0.string("id"), $0) })
        let sa = try XCTUnwrap(byID[try a.string("snapshot_id")])
        XCTAssertEqual(try sa.string("name"), "db")
        XCTAssertEqual(try sa.string("time"), "2026-01-31T02:00:00Z")
        XCTAssertEqual(try sa.string("host"), "db1")
        XCTAssertEqual((sa["tags"] as? [String]).map(Set.init), Set(["nightly", "pg"]))
        XCTAssertEqual(try sa.int("logical_bytes"), data.count)
        let sc = try XCTUnwrap(byID[try c.string("snapshot_id")])
        XCTAssertEqual(try sc.string("name"), "tree")
        XCTAssertEqual(sc["tags"] as? [String], [])
        XCTAssertEqual(try sc.int("logical_bytes"), 10_000)
        // Times are RFC 3339 UTC.
        for s in snaps { XCTAssertTrue(try s.string("time").hasSuffix("Z"), "\(s)") }
        // --name filters.
        XCTAssertEqual(try snapshots(["--name", "db"]).count, 2)
        XCTAssertEqual(try snapshots(["--name", "nothing"]).count, 0)
        // latest --name picks the newest recorded time.
        let latest = try ok(["ls", "latest", "--name", "db", "--json"]).jsonLines()
        XCTAssertEqual(latest.count, 1)
        XCTAssertEqual(try latest[0].string("path"), "/db")
        XCTAssertEqual(try latest[0].int("size"), data.count)
        XCTAssertEqual(try latest[0].string("mtime"), "2026-02-01T02:00:00Z")
        // The human table mentions every snapshot.
        let table = try ok(["snapshots"]).out
        for s in snaps { XCTAssertTrue(table.contains(String(try s.string("id").prefix(8))), table) }

        let stats = try ok(["stats", "--json"]).jsonObject()
        XCTAssertEqual(try stats.int("snapshots"), 3)
        XCTAssertEqual(try stats.int("logical_bytes"), 2 * data.count + 10_000)
        XCTAssertGreaterThan(try stats.double("dedup_ratio"), 1.9, "the same 2 MiB stored twice: \(stats)")
        XCTAssertLessThan(try stats.int("unique_bytes"), data.count + 100_000, "\(stats)")
        XCTAssertGreaterThan(try stats.int("stored_bytes"), 0)
        XCTAssertGreaterThan(try stats.int("chunk_count"), 0)
        XCTAssertGreaterThan(try stats.double("compression_ratio"), 0)
        let human = try ok(["stats"]).out
        XCTAssertTrue(human.contains("dedup ratio"), human)
    }

    func testSnapshotIDPrefixResolution() throws {
        try initRepo()
        // Back up until two snapshot ids share their first hex digit (at most 17 by pigeonhole).
        var ids: [String] = []
        var shared: (String, String)? = nil
        for i in 0..<17 {
            let id = try backup(["--stdin", "--name", "s"], stdin: .data(Data("snapshot \(i)".utf8))).string("snapshot_id")
            if let other = ids.first(where: { $0.first == id.first }) { shared = (other, id); ids.append(id); break }
            ids.append(id)
        }
        let (x, y) = try XCTUnwrap(shared)
        // A unique prefix of 8 digits, a full id, and upper case all resolve.
        for spec in [String(x.prefix(8)), x, String(x.prefix(8)).uppercased()] {
            let i = ids.firstIndex(of: x)!
            XCTAssertEqual(try restoreStdout(spec), Data("snapshot \(i)".utf8), spec)
        }
        // The shortest unique prefix of y.
        var n = 1
        while ids.filter({ $0.hasPrefix(y.prefix(n)) }).count > 1 { n += 1 }
        XCTAssertEqual(try restoreStdout(String(y.prefix(n))), Data("snapshot \(ids.firstIndex(of: y)!)".utf8))
        // The shared first digit is ambiguous.
        let amb = try failsOneLine(["restore", String(x.prefix(1)), "--stdout"])
        XCTAssertTrue(amb.err.contains("matches"), amb.summary)
        XCTAssertTrue(amb.stdout.isEmpty)
        try failsOneLine(["ls", String(x.prefix(1))])
        // Unknown ids.
        var unknown = "0123456789abcdef"
        while ids.contains(where: { $0.hasPrefix(unknown.prefix(4)) }) { unknown = String(unknown.reversed()) + "0" }
        let u = try failsOneLine(["restore", String(unknown.prefix(12)), "--stdout"])
        XCTAssertTrue(u.err.contains("no snapshot"), u.summary)
        try failsOneLine(["ls", "not-hex-at-all"])
        try failsOneLine(["restore", "latest", "--name", "no-such-name", "--stdout"])
        // latest on an empty name filter; and in an empty repository.
        let emptyRepo = tmp.appendingPathComponent("empty-repo")
        try ok(["init", "--repo", emptyRepo.path])
        try failsOneLine(["restore", "latest", "--stdout", "--repo", emptyRepo.path])
    }
}

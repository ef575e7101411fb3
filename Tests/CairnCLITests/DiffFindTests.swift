import Foundation
import XCTest

/// `cairn diff A B` and `cairn find PATTERN` through the binary.
final class DiffFindTests: CLITestCase {
    /// Two snapshots of one tree with every kind of change between them; returns (first id, second id).
    func twoSnapshots() throws -> (String, String) {
        try initRepo()
        let src = try makeDir("src")
        try write(Data("alpha\n".utf8), to: src.appendingPathComponent("a.txt"))
        try write(Data("bravo\n".utf8), to: src.appendingPathComponent("b.txt"))
        try write(Data("charlie\n".utf8), to: src.appendingPathComponent("sub/c.txt"))
        try write(Data("mode\n".utf8), to: src.appendingPathComponent("mode.txt"))
        try write(TestData.random(300_000, seed: 7), to: src.appendingPathComponent("same/big.bin"))
        try FileManager.default.createSymbolicLink(atPath: src.appendingPathComponent("link").path, withDestinationPath: "a.txt")
        let first = try backup([src.path, "--name", "src", "--time", "2026-04-01T00:00:00Z"]).string("snapshot_id")
        try write(Data("alpha, longer now\n".utf8), to: src.appendingPathComponent("a.txt"))
        try FileManager.default.removeItem(at: src.appendingPathComponent("b.txt"))
        try write(Data("new\n".utf8), to: src.appendingPathComponent("sub/new.txt"))
        try write(Data("xray!\n".utf8), to: src.appendingPathComponent("newdir/x.txt"))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: src.appendingPathComponent("mode.txt").path)
        try FileManager.default.removeItem(at: src.appendingPathComponent("link"))
        try FileManager.default.createDirectory(at: src.appendingPathComponent("link"), withIntermediateDirectories: false)
        let second = try backup([src.path, "--name", "src", "--time", "2026-04-02T00:00:00Z"]).string("snapshot_id")
        return (first, second)
    }

    func testDiffReportsEveryKindOfChange() throws {
        let (a, b) = try twoSnapshots()
        let lines = try ok(["diff", String(a.prefix(8)), "latest", "--name", "src", "--json"]).jsonLines()
        let changes = lines.filter { $0["message_type"] as? String == "change" }
        var byPath: [String: [String: Any]] = [:]
        for c in changes {
            let p = try c.string("path")
            // Paths are from the snapshot root; compare from the backed-up directory's name on.
            let key = p.components(separatedBy: "/src").last ?? p
            XCTAssertNil(byPath[key], "one line per path: \(p)")
            byPath[key] = c
        }
        XCTAssertEqual(try byPath["/a.txt"]?.string("modifier"), "M")
        XCTAssertEqual(try byPath["/a.txt"]?.int("old_size"), 6)
        XCTAssertEqual(try byPath["/a.txt"]?.int("new_size"), 18)
        XCTAssertEqual(try byPath["/b.txt"]?.string("modifier"), "-")
        XCTAssertEqual(try byPath["/b.txt"]?.int("old_size"), 6)
        XCTAssertEqual(try byPath["/sub/new.txt"]?.string("modifier"), "+")
        XCTAssertEqual(try byPath["/newdir"]?.string("modifier"), "+")
        XCTAssertEqual(try byPath["/newdir"]?.string("type"), "dir")
        XCTAssertEqual(try byPath["/newdir/x.txt"]?.string("modifier"), "+")
        XCTAssertEqual(try byPath["/mode.txt"]?.string("modifier"), "U")
        XCTAssertEqual(byPath["/mode.txt"]?["changed"] as? [String], ["mode"])
        XCTAssertEqual(try byPath["/link"]?.string("modifier"), "T")
        XCTAssertEqual(try byPath["/link"]?.string("old_type"), "symlink")
        XCTAssertEqual(try byPath["/link"]?.string("type"), "dir")
        XCTAssertEqual(try byPath["/sub"]?.string("modifier"), "U", "a file added changes the directory's mtime")
        XCTAssertNil(byPath["/sub/c.txt"], "unchanged")
        XCTAssertNil(byPath["/same"], "unchanged directory")
        XCTAssertNil(byPath["/same/big.bin"], "unchanged")
        for c in changes where c["new_mtime"] != nil { XCTAssertTrue(try c.string("new_mtime").hasSuffix("Z"), "\(c)") }
        let stats = try XCTUnwrap(lines.last)
        XCTAssertEqual(try stats.string("message_type"), "statistics")
        XCTAssertEqual(try stats.string("source_snapshot"), a)
        XCTAssertEqual(try stats.string("target_snapshot"), b)
        let added = try XCTUnwrap(stats["added"] as? [String: Any]), removed = try XCTUnwrap(stats["removed"] as? [String: Any])
        XCTAssertEqual(try added.int("files"), 2)
        XCTAssertEqual(try added.int("dirs"), 1)
        XCTAssertEqual(try added.int("bytes"), 4 + 6)
        XCTAssertEqual(try removed.int("files"), 1)
        XCTAssertEqual(try stats.int("changed_files"), 1)
        XCTAssertEqual(try stats.int("changed_type"), 1)

        // The human form: restic's markers, sizes, a summary.
        let human = try ok(["diff", a, b]).out
        XCTAssertTrue(human.contains("comparing snapshot \(a.prefix(8)) to \(b.prefix(8))"), human)
        XCTAssertTrue(human.split(separator: "\n").contains { $0.hasPrefix("M ") && $0.contains("/a.txt") && $0.contains("6 B -> 18 B") }, human)
        XCTAssertTrue(human.split(separator: "\n").contains { $0.hasPrefix("- ") && $0.hasSuffix("/b.txt  (6 B)") }, human)
        XCTAssertTrue(human.split(separator: "\n").contains { $0.hasPrefix("+ ") && $0.hasSuffix("/newdir/") }, human)
        XCTAssertTrue(human.split(separator: "\n").contains { $0.hasPrefix("U ") && $0.contains("/mode.txt") && $0.contains("[mode]") }, human)
        XCTAssertTrue(human.contains("Files:       2 new, 1 removed, 1 changed"), human)
        // Backwards: added and removed swap.
        let back = try ok(["diff", b, a, "--json"]).jsonLines()
        let backStats = try XCTUnwrap(back.last)
        XCTAssertEqual(try (backStats["removed"] as? [String: Any])?.int("files"), 2)
        // A snapshot against itself: nothing.
        let same = try ok(["diff", a, a, "--json"]).jsonLines()
        XCTAssertEqual(same.count, 1, "only the statistics: \(same)")
        // Unknown snapshot: one line, exit 1; missing argument: usage.
        try failsOneLine(["diff", a, "ffffffff"])
        try fails(["diff", a], code: 2)
    }

    func testFindAcrossSnapshots() throws {
        let (a, b) = try twoSnapshots()
        // In both snapshots.
        let c = try ok(["find", "c.txt", "--json"]).jsonLines()
        XCTAssertEqual(Set(try c.map { try $0.string("snapshot_id") }), [a, b])
        for m in c {
            XCTAssertTrue(try m.string("path").hasSuffix("/src/sub/c.txt"), "\(m)")
            XCTAssertEqual(try m.int("size"), 8)
            XCTAssertEqual(try m.string("type"), "file")
            XCTAssertTrue(try m.string("mtime").hasSuffix("Z"))
            XCTAssertEqual(try m.string("snapshot_name"), "src")
        }
        // Only in the first / the second.
        XCTAssertEqual(try ok(["find", "b.txt", "--json"]).jsonLines().map { try $0.string("snapshot_id") }, [a])
        XCTAssertEqual(try ok(["find", "x.txt", "--json"]).jsonLines().map { try $0.string("snapshot_id") }, [b])
        // Globs on names, case folding, several patterns, path patterns.
        let txt = try ok(["find", "*.txt", "--snapshot", a, "--json"]).jsonLines()
        XCTAssertEqual(txt.count, 4, "a b c mode: \(txt)")
        XCTAssertEqual(try ok(["find", "*.TXT", "--snapshot", a, "--json"]).jsonLines().count, 0)
        XCTAssertEqual(try ok(["find", "-i", "*.TXT", "--snapshot", a, "--json"]).jsonLines().count, 4)
        XCTAssertEqual(try ok(["find", "a.txt", "b.txt", "--snapshot", a, "--json"]).jsonLines().count, 2)
        let sub = try ok(["find", "*/sub/*", "--snapshot", "latest", "--json"]).jsonLines()
        XCTAssertEqual(Set(try sub.map { try $0.string("path").components(separatedBy: "/sub/").last ?? "" }), ["c.txt", "new.txt"])
        // Filters narrow the snapshots searched.
        XCTAssertEqual(try ok(["find", "c.txt", "--host", "elsewhere", "--json"]).jsonLines().count, 0)
        // Human output: the snapshot, then size, mtime and path.
        let human = try ok(["find", "c.txt"]).out
        XCTAssertTrue(human.contains("snapshot \(a.prefix(8)) of src from 2026-04-01T00:00:00Z"), human)
        XCTAssertTrue(human.contains("2 match(es) in 2 of 2 snapshot(s)"), human)
        XCTAssertTrue(human.split(separator: "\n").contains { $0.contains("8 B") && $0.hasSuffix("/sub/c.txt") }, human)
        // Nothing found is not an error, and says so.
        let none = try ok(["find", "no-such-file"])
        XCTAssertTrue(none.out.contains("no matches in 2 snapshot(s)"), none.summary)
        try fails(["find"], code: 2)
        try fails(["find", ""], code: 2)
    }
}

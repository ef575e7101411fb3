import Foundation
import XCTest

/// `backup --files-from`, `--files-from-verbatim`, `--exclude-caches`,
/// `--exclude-larger-than` and `--dry-run` through the binary.
final class BackupSelectionTests: CLITestCase {
    /// Paths in a snapshot (from `ls --json`), as recorded.
    func listed(_ snapshot: String = "latest") throws -> [String] {
        try ok(["ls", snapshot, "--json"]).jsonLines().map { try $0.string("path") }
    }

    func testFilesFromLists() throws {
        try initRepo()
        let a = try makeDir("one"), b = try makeDir("two/deeper")
        try write(Data("first\n".utf8), to: a.appendingPathComponent("first.txt"))
        try write(Data("second\n".utf8), to: b.appendingPathComponent("second.txt"))
        try write(Data("third\n".utf8), to: a.appendingPathComponent("sub/third.txt"))
        try write(Data("left out\n".utf8), to: a.appendingPathComponent("not-listed.txt"))
        let list = tmp.appendingPathComponent("list.txt")
        try Data("""
            # what to back up
            \(a.appendingPathComponent("first.txt").path)

              \(b.appendingPathComponent("second.txt").path)  \r
            \(a.appendingPathComponent("sub").path)

            """.utf8).write(to: list)
        let r = try backup(["--files-from", list.path, "--name", "listed"])
        XCTAssertEqual(try r.int("files"), 3, "\(r)")
        let paths = try listed()
        XCTAssertTrue(paths.contains { $0.hasSuffix("first.txt") }, "\(paths)")
        XCTAssertTrue(paths.contains { $0.hasSuffix("second.txt") }, "\(paths)")
        XCTAssertTrue(paths.contains { $0.hasSuffix("sub/third.txt") }, "\(paths)")
        XCTAssertFalse(paths.contains { $0.contains("not-listed") }, "\(paths)")
        // The list's paths are the snapshot's paths.
        let snap = try XCTUnwrap(try snapshots(["--name", "listed"]).first)
        XCTAssertEqual((snap["paths"] as? [String])?.count, 3, "\(snap)")
        // Restored byte for byte.
        let out = tmp.appendingPathComponent("out")
        try ok(["restore", "latest", "--name", "listed", "--target", out.path])
        let restored = try XCTUnwrap(FileManager.default.enumerator(atPath: out.path)?.allObjects as? [String])
        let second = try XCTUnwrap(restored.first { $0.hasSuffix("second.txt") })
        XCTAssertEqual(FileManager.default.contents(atPath: out.appendingPathComponent(second).path), Data("second\n".utf8))

        // A missing path in a list fails before anything is stored.
        try Data("\(a.appendingPathComponent("first.txt").path)\n\(tmp.path)/nowhere\n".utf8).write(to: list)
        let before = try snapshots().count
        let missing = try failsOneLine(["backup", "--files-from", list.path, "--name", "listed"])
        XCTAssertTrue(missing.err.contains("nowhere"), missing.summary)
        XCTAssertEqual(try snapshots().count, before)
        // An unreadable list, an empty list, a list with --stdin.
        try failsOneLine(["backup", "--files-from", tmp.appendingPathComponent("no-list").path])
        try Data("# nothing\n\n".utf8).write(to: list)
        try failsOneLine(["backup", "--files-from", list.path])
        try fails(["backup", "--stdin", "--name", "x", "--files-from", list.path], code: 2, stdin: .data(Data("x".utf8)))
        // The list from standard input.
        let fromStdin = try backup(["--files-from", "-", "--name", "stdin-list"], stdin: .data(Data("\(b.path)\n".utf8)))
        XCTAssertEqual(try fromStdin.int("files"), 1)
    }

    func testFilesFromVerbatimTakesNULSeparatedNames() throws {
        try initRepo()
        let dir = try makeDir("odd")
        let names = ["# not a comment", "line\nbreak", "  spaced  ", "plain"]
        for (i, n) in names.enumerated() { try write(Data("content \(i)\n".utf8), to: dir.appendingPathComponent(n)) }
        let list = tmp.appendingPathComponent("list0")
        // As `find -print0` writes it: every entry ends in NUL.
        try Data(names.map { dir.appendingPathComponent($0).path + "\0" }.joined().utf8).write(to: list)
        let r = try backup(["--files-from-verbatim", list.path, "--name", "odd"])
        XCTAssertEqual(try r.int("files"), 4, "\(r)")
        let paths = try listed()
        for n in names { XCTAssertTrue(paths.contains { $0.hasSuffix("/" + n) }, "\(n.debugDescription) in \(paths)") }
        // Without NUL bytes: one name a line, kept exactly (blanks, '#').
        let lines = tmp.appendingPathComponent("lines")
        try Data((dir.appendingPathComponent("  spaced  ").path + "\n" + dir.appendingPathComponent("# not a comment").path + "\n").utf8).write(to: lines)
        let v = try backup(["--files-from-verbatim", lines.path, "--name", "verbatim-lines"])
        XCTAssertEqual(try v.int("files"), 2, "\(v)")
        // The same list through --files-from trims and skips the comment: the trimmed name does not exist.
        try fails(["backup", "--files-from", lines.path, "--name", "trimmed"], code: 1)
    }

    func testExcludeCachesAndLargerThan() throws {
        try initRepo()
        let src = try makeDir("src")
        try write(Data("keep\n".utf8), to: src.appendingPathComponent("small.txt"))
        try write(TestData.random(200_000, seed: 3), to: src.appendingPathComponent("big.bin"))
        try write(TestData.random(2_000, seed: 4), to: src.appendingPathComponent("nested/medium.bin"))
        try write(Data("Signature: 8a477f597d28d172789f06886806bc55\n# a cache\n".utf8), to: src.appendingPathComponent("cache/CACHEDIR.TAG"))
        try write(Data("cached\n".utf8), to: src.appendingPathComponent("cache/entry"))
        try write(Data("Signature: not the right one\n".utf8), to: src.appendingPathComponent("fake/CACHEDIR.TAG"))
        try write(Data("kept\n".utf8), to: src.appendingPathComponent("fake/entry"))
        // Without the options everything is there.
        _ = try backup([src.path, "--name", "all"])
        XCTAssertTrue(try listed().contains { $0.hasSuffix("/cache/entry") })
        _ = try backup([src.path, "--name", "some", "--exclude-caches", "--exclude-larger-than", "1K"])
        let paths = try listed()
        XCTAssertTrue(paths.contains { $0.hasSuffix("/small.txt") }, "\(paths)")
        XCTAssertFalse(paths.contains { $0.hasSuffix("/big.bin") }, "larger than 1 KiB: \(paths)")
        XCTAssertFalse(paths.contains { $0.hasSuffix("/nested/medium.bin") }, "larger than 1 KiB, below: \(paths)")
        XCTAssertTrue(paths.contains { $0.hasSuffix("/nested") }, "directories are not sized: \(paths)")
        XCTAssertFalse(paths.contains { $0.contains("/cache") }, "the tagged directory is left out whole: \(paths)")
        XCTAssertTrue(paths.contains { $0.hasSuffix("/fake/entry") }, "a tag without the signature is no cache tag: \(paths)")
        // Sizes: 1K is 1024 bytes; a bad size is a usage error.
        _ = try backup([src.path, "--name", "mid", "--exclude-larger-than", "2000"])
        XCTAssertTrue(try listed().contains { $0.hasSuffix("/nested/medium.bin") }, "2000 bytes is not larger than 2000")
        try fails(["backup", src.path, "--exclude-larger-than", "big"], code: 2)
    }

    func testDryRunStoresNothing() throws {
        try initRepo()
        let src = try makeDir("src")
        for i in 0..<5 { try write(TestData.random(50_000, seed: UInt64(10 + i)), to: src.appendingPathComponent("f\(i).bin")) }
        try write(TestData.random(50_000, seed: 10), to: src.appendingPathComponent("copy-of-f0.bin"))
        try write(TestData.random(90_000, seed: 20), to: src.appendingPathComponent("huge.bin"))
        func storeFiles() throws -> [String] {
            try XCTUnwrap(FileManager.default.enumerator(atPath: repo.path)?.allObjects as? [String]).sorted()
        }
        let before = try storeFiles()
        let first = try ok(["backup", src.path, "--name", "src", "--dry-run", "--json"]).jsonObject()
        XCTAssertEqual(first["dry_run"] as? Bool, true)
        XCTAssertEqual(try first.int("files"), 7)
        XCTAssertEqual(try first.int("files_to_read"), 7)
        XCTAssertEqual(try first.int("logical_bytes"), 6 * 50_000 + 90_000)
        // The duplicate file's chunks count once.
        XCTAssertEqual(try first.int("new_bytes"), 5 * 50_000 + 90_000)
        XCTAssertEqual(try storeFiles(), before, "a dry run writes nothing to the repository")
        XCTAssertEqual(try snapshots().count, 0)
        // Excludes apply to a dry run as to a backup.
        let excluded = try ok(["backup", src.path, "--name", "src", "--dry-run", "--json", "--exclude-larger-than", "60K"]).jsonObject()
        XCTAssertEqual(try excluded.int("files"), 6)
        // After a backup, a dry run reads only what changed and finds little new.
        _ = try backup([src.path, "--name", "src"])
        try write(TestData.random(50_000, seed: 99), to: src.appendingPathComponent("f3.bin"))
        let again = try ok(["backup", src.path, "--name", "src", "--dry-run", "--json"]).jsonObject()
        XCTAssertEqual(try again.int("files_to_read"), 1, "\(again)")
        XCTAssertEqual(try again.int("unchanged_files"), 6, "\(again)")
        XCTAssertEqual(try again.int("new_bytes"), 50_000, "\(again)")
        XCTAssertEqual(try snapshots().count, 1)
        // The human summary.
        let human = try ok(["backup", src.path, "--name", "src", "--dry-run"]).out
        XCTAssertTrue(human.contains("dry run: nothing was stored"), human)
        XCTAssertTrue(human.contains("would read 1 files"), human)
        try fails(["backup", "--stdin", "--name", "s", "--dry-run"], code: 2, stdin: .data(Data("x".utf8)))
    }
}

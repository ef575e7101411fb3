import CairnStorage
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Trees go in with `backup` and come back with `restore --target`, bytes and metadata.
final class RoundTripTests: CLITestCase {
    /// Builds a tree with every kind of entry the format keeps; returns its root.
    func makeSourceTree() throws -> URL {
        let src = try makeDir("src")
        func file(_ rel: String, _ data: Data, mode: mode_t) throws {
            let u = src.appendingPathComponent(rel)
            try write(data, to: u)
            try Posix.chmod(u.path, mode)
        }
        try file("empty", Data(), mode: 0o600)
        try file("one-byte", Data([0x2A]), mode: 0o640)
        try file("random.bin", TestData.random(3 << 20, seed: 11), mode: 0o755)
        try file("text.txt", TestData.text(600_000, seed: 12), mode: 0o644)
        try file("name with spaces é.txt", Data("unicode name\n".utf8), mode: 0o600)
        try file("setuid-tool", Data("#!/bin/sh\n".utf8), mode: 0o4755)
        try file("nested/deeper/deepest/file.txt", TestData.text(10_000, seed: 13), mode: 0o640)
        try file("nested/deeper/sibling.bin", TestData.random(70_000, seed: 14), mode: 0o600)
        try file("readonly-dir/inner.txt", Data("inside a 0555 directory".utf8), mode: 0o444)
        _ = try makeDir("src/empty-dir")
        try Posix.symlink("nested/deeper/deepest/file.txt", at: src.appendingPathComponent("link-relative").path)
        try Posix.symlink("../does/not/exist", at: src.appendingPathComponent("nested/link-dangling").path)
        try Posix.symlink("/etc/hostname", at: src.appendingPathComponent("link-absolute").path)
        if Posix.isRoot {
            try Posix.lchown(src.appendingPathComponent("random.bin").path, 1234, 5678)
            try Posix.lchown(src.appendingPathComponent("nested/deeper").path, 2345, 6789)
            try Posix.lchown(src.appendingPathComponent("link-relative").path, 3456, 7890)
            // chown clears set-uid: set the mode again.
            try Posix.chmod(src.appendingPathComponent("setuid-tool").path, 0o4755)
        }
        try Posix.chmod(src.appendingPathComponent("nested/deeper/deepest").path, 0o700)
        try Posix.chmod(src.appendingPathComponent("nested").path, 0o750)
        try Posix.chmod(src.appendingPathComponent("empty-dir").path, 0o711)
        // mtimes last, deepest first, with nanoseconds, so directories keep theirs.
        let entries = try TreeSnapshot.capture(src).entries.keys.sorted { $0.split(separator: "/").count > $1.split(separator: "/").count }
        var t: Int64 = 1_600_000_000_123_456_789
        for rel in entries where rel != "." {
            try Posix.setMtime(src.appendingPathComponent(rel).path, nanos: t)
            t += 86_400_000_000_017
        }
        try Posix.chmod(src.appendingPathComponent("readonly-dir").path, 0o555)
        try Posix.setMtime(src.appendingPathComponent("readonly-dir").path, nanos: 1_500_000_000_000_000_001)
        try Posix.setMtime(src.path, nanos: 1_700_000_000_999_999_999)
        return src
    }

    func testTreeRoundTripKeepsBytesAndMetadata() throws {
        try initRepo()
        let src = try makeSourceTree()
        let expected = try TreeSnapshot.capture(src)
        let result = try backup([src.path])
        XCTAssertEqual(try result.int("files"), 9, "\(result)")
        XCTAssertEqual(try result.int("logical_bytes"), expected.entries.values.filter { $0.kind == .file }.reduce(0) { $0 + Int($1.size) })
        XCTAssertTrue((result["warnings"] as? [Any])?.isEmpty ?? false, "\(result)")
        // The source is not modified by a backup.
        assertTreesEqual(expected, try TreeSnapshot.capture(src), CompareOptions(), "source after backup:")

        let out = tmp.appendingPathComponent("out")
        let r = try ok(["restore", "latest", "--target", out.path, "--json"])
        let j = try r.jsonObject()
        XCTAssertEqual(try j.int("files"), 9, "\(j)")
        XCTAssertTrue((j["warnings"] as? [Any])?.isEmpty ?? false, "restore warnings: \(j)")
        XCTAssertTrue(r.err.isEmpty, "restore printed: \(r.err)")
        assertTreesEqual(expected, try TreeSnapshot.capture(restored(src, under: out)), CompareOptions(), "restored:")
        if Posix.isRoot {
            let e = try TreeSnapshot.capture(restored(src, under: out)).entries
            XCTAssertEqual(e["random.bin"]?.uid, 1234); XCTAssertEqual(e["random.bin"]?.gid, 5678)
            XCTAssertEqual(e["link-relative"]?.uid, 3456); XCTAssertEqual(e["link-relative"]?.gid, 7890)
            XCTAssertEqual(e["nested/deeper"]?.uid, 2345)
        }
        // By id too, into an existing non-empty directory.
        let id = try result.string("snapshot_id")
        let out2 = try makeDir("out2")
        try write(Data("unrelated".utf8), to: out2.appendingPathComponent("unrelated.txt"))
        try ok(["restore", id, "--target", out2.path])
        assertTreesEqual(expected, try TreeSnapshot.capture(restored(src, under: out2)), CompareOptions(), "restored by id:")
        XCTAssertEqual(FileManager.default.contents(atPath: out2.appendingPathComponent("unrelated.txt").path), Data("unrelated".utf8))
    }

    func testLsJSONDescribesTheTree() throws {
        try initRepo()
        let src = try makeSourceTree()
        let expected = try TreeSnapshot.capture(src)
        _ = try backup([src.path])
        let lines = try ok(["ls", "latest", "--json"]).jsonLines()
        var byPath: [String: [String: Any]] = [:]
        for l in lines { byPath[try l.string("path")] = l }
        let expectedPaths = Set(expected.entries.keys.map { $0 == "." ? src.path : src.path + "/" + $0 })
        // Full paths: the directories leading to src are entries too.
        XCTAssertEqual(Set(byPath.keys).subtracting(expectedPaths), Set((1..<depth(src)).map { "/" + src.path.split(separator: "/").prefix($0).joined(separator: "/") }))
        for (rel, e) in expected.entries {
            guard let l = byPath[rel == "." ? src.path : src.path + "/" + rel] else { XCTFail("no entry for \(rel)"); continue }
            let type = try l.string("type")
            switch e.kind {
            case .file:
                XCTAssertEqual(type, "file", rel)
                XCTAssertEqual(try l.int("size"), Int(e.size), rel)
                XCTAssertEqual(try l.int("mode"), Int(e.mode), rel)
            case .dir:
                XCTAssertEqual(type, "dir", rel)
                XCTAssertEqual(try l.int("mode"), Int(e.mode), rel)
            case .symlink:
                XCTAssertEqual(type, "symlink", rel)
                XCTAssertEqual(l["link_target"] as? String, e.linkTarget, rel)
            case .other: break
            }
            if Posix.isRoot {
                XCTAssertEqual(try l.int("uid"), Int(e.uid), rel)
                XCTAssertEqual(try l.int("gid"), Int(e.gid), rel)
            }
            XCTAssertNotNil(l["mtime"] as? String, rel)
        }
        // The human listing has one line per entry.
        let text = try ok(["ls", "latest"]).out
        XCTAssertEqual(text.split(separator: "\n").count, expected.entries.count + depth(src) - 1, text)
        XCTAssertTrue(text.contains(src.path + "/link-relative -> nested/deeper/deepest/file.txt"), text)
    }

    func testIncludeRestoresOnlyTheNamedSubpath() throws {
        try initRepo()
        let src = try makeSourceTree()
        let expected = try TreeSnapshot.capture(src)
        _ = try backup([src.path])

        let out = tmp.appendingPathComponent("only-nested")
        try ok(["restore", "latest", "--target", out.path, "--include", src.path + "/nested/deeper"])
        let got = try TreeSnapshot.capture(restored(tmp, under: out)).entries.keys.filter { $0 != "." }.sorted()
        let want = (["src", "src/nested"] + expected.entries.keys.filter { $0.hasPrefix("nested/deeper") }.map { "src/" + $0 }).sorted()
        XCTAssertEqual(got, want)
        let sub = try TreeSnapshot.capture(restored(src.appendingPathComponent("nested/deeper"), under: out))
        let wantSub = try TreeSnapshot.capture(src.appendingPathComponent("nested/deeper"))
        assertTreesEqual(wantSub, sub, CompareOptions(), "included subtree:")

        // A single file, by its full path as ls prints it.
        let out2 = tmp.appendingPathComponent("only-file")
        try ok(["restore", "latest", "--target", out2.path, "--include", src.path + "/text.txt"])
        XCTAssertEqual(try TreeSnapshot.capture(restored(tmp, under: out2)).entries.keys.filter { $0 != "." }.sorted(), ["src", "src/text.txt"])
        XCTAssertEqual(FileManager.default.contents(atPath: restored(src, under: out2).appendingPathComponent("text.txt").path), TestData.text(600_000, seed: 12))

        // Two includes.
        let out3 = tmp.appendingPathComponent("two")
        try ok(["restore", "latest", "--target", out3.path, "--include", src.path + "/one-byte", "--include", src.path + "/link-relative/"])
        XCTAssertEqual(try TreeSnapshot.capture(restored(tmp, under: out3)).entries.keys.filter { $0 != "." }.sorted(), ["src", "src/link-relative", "src/one-byte"])
    }

    /// --include of a path the snapshot does not have fails (exit 1) and names it,
    /// at the top level and below an existing directory.
    func testIncludeOfAMissingPathFails() throws {
        try initRepo()
        let src = try makeDir("src")
        try write(Data("x".utf8), to: src.appendingPathComponent("sub/x"))
        _ = try backup([src.path])
        for missing in ["nope", src.path + "/nope", src.path + "/sub/nope", "src/sub/x"] {
            let r = try failsOneLine(["restore", "latest", "--target", tmp.appendingPathComponent("none").path, "--include", missing])
            XCTAssertTrue(r.err.contains(missing), r.summary)
        }
    }

    func testSeveralPathsAndASingleFile() throws {
        try initRepo()
        let a = try makeDir("in/a"), b = try makeDir("other/b")
        try write(TestData.random(100_000, seed: 21), to: a.appendingPathComponent("x"))
        try write(TestData.text(50_000, seed: 22), to: b.appendingPathComponent("y"))
        let single = tmp.appendingPathComponent("single.dat")
        try write(TestData.random(300_000, seed: 23), to: single)
        let res = try backup([a.path, b.path + "/", single.path, "--name", "multi"])
        XCTAssertEqual(try res.string("name"), "multi")
        let out = tmp.appendingPathComponent("out")
        try ok(["restore", "latest", "--name", "multi", "--target", out.path])
        XCTAssertEqual(FileManager.default.contents(atPath: restored(a, under: out).appendingPathComponent("x").path), TestData.random(100_000, seed: 21))
        XCTAssertEqual(FileManager.default.contents(atPath: restored(b, under: out).appendingPathComponent("y").path), TestData.text(50_000, seed: 22))
        XCTAssertEqual(FileManager.default.contents(atPath: restored(single, under: out).path), TestData.random(300_000, seed: 23))
        XCTAssertEqual(try snapshots(["--name", "multi"]).first?["paths"] as? [String], [a.path, b.path, single.path])

        // A snapshot of one file restores to standard output; its default name is the file name.
        let one = try backup([single.path])
        XCTAssertEqual(try one.string("name"), "single.dat")
        XCTAssertEqual(try restoreStdout("latest", name: "single.dat"), TestData.random(300_000, seed: 23))
        // A tree does not go to standard output.
        try failsOneLine(["restore", "latest", "--name", "multi", "--stdout"])

        // Two arguments with the same last component are both kept, each at its full path.
        let a2 = try makeDir("elsewhere/a")
        try write(Data("z".utf8), to: a2.appendingPathComponent("z"))
        _ = try backup([a.path, a2.path, "--name", "same-last"])
        let out4 = tmp.appendingPathComponent("out4")
        try ok(["restore", "latest", "--name", "same-last", "--target", out4.path])
        XCTAssertEqual(FileManager.default.contents(atPath: restored(a2, under: out4).appendingPathComponent("z").path), Data("z".utf8))
        XCTAssertEqual(FileManager.default.contents(atPath: restored(a, under: out4).appendingPathComponent("x").path), TestData.random(100_000, seed: 21))
    }

    /// mtimes before 1970 with a fractional second (old archives, broken clocks).
    func testPreEpochMtimeRoundTrip() throws {
        try initRepo()
        let src = try makeDir("old")
        let f = src.appendingPathComponent("ancient.txt")
        try write(Data("from 1969".utf8), to: f)
        try Posix.setMtime(f.path, nanos: -1_500_000_000)   // 1969-12-31T23:59:58.5Z
        let g = src.appendingPathComponent("whole-second.txt")
        try write(Data("1960".utf8), to: g)
        try Posix.setMtime(g.path, nanos: -315_619_200_000_000_000)
        let expected = try TreeSnapshot.capture(src)
        _ = try backup([src.path])
        let out = tmp.appendingPathComponent("out")
        let r = try ok(["restore", "latest", "--target", out.path])
        XCTAssertFalse(r.err.contains("warning"), "restore warned: \(r.err)")
        assertTreesEqual(expected, try TreeSnapshot.capture(restored(src, under: out)), CompareOptions(), "pre-1970:")
    }

    /// File names that are not valid UTF-8 are legal on Linux and must survive.
    func testNonUTF8FileNameRoundTrip() throws {
        try initRepo()
        let src = try makeDir("raw")
        let name: [UInt8] = Array("latin1-".utf8) + [0xE9, 0xFF] + Array(".txt".utf8)
        let path = Array(src.path.utf8) + [0x2F] + name + [0]
        let fd = path.withUnsafeBufferPointer { p in
            p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: p.count) { open($0, O_WRONLY | O_CREAT | O_EXCL, 0o644) }
        }
        guard fd >= 0 else { throw XCTSkip("this file system refuses non-UTF-8 names") }
        _ = "payload".withCString { Glibc.write(fd, $0, 7) }
        close(fd)
        _ = try backup([src.path])
        let out = try makeDir("out")
        try ok(["restore", "latest", "--target", out.path])
        let restoredDir = restored(tmp.appendingPathComponent("raw"), under: out).path
        let names = DirectoryReader.names(restoredDir) ?? []
        XCTAssertEqual(names, [name], "restored names: \(names.map { $0.map { String($0, radix: 16) }.joined(separator: " ") })")
    }
}

import Foundation
import XCTest

/// `cairn init`: creates, refuses to overwrite, and behaves on odd paths.
final class InitCommandTests: CLITestCase {
    func testInitCreatesARepositoryThatOpens() throws {
        let r = try ok(["init"])
        XCTAssertTrue(r.out.contains("created cairn repository"), r.summary)
        XCTAssertTrue(FileManager.default.fileExists(atPath: repo.appendingPathComponent("config").path))
        XCTAssertEqual(try snapshots().count, 0)
        // --json gives the repository id.
        let other = tmp.appendingPathComponent("repo2")
        let j = try ok(["init", "--json", "--repo", other.path]).jsonObject()
        XCTAssertEqual(try j.string("id").count, 64, "\(j)")
        XCTAssertEqual(try j.string("repository"), other.path)
    }

    func testLocalSchemeURL() throws {
        try ok(["init", "--repo", "local:" + repo.path])
        XCTAssertEqual(try snapshots().count, 0)
        XCTAssertEqual(try ok(["snapshots", "--json", "--repo", "local:" + repo.path]).jsonArray().count, 0)
    }

    func testSecondInitFailsWithOneLineAndChangesNothing() throws {
        try initRepo()
        let src = try makeDir("src")
        try write(Data("keep me".utf8), to: src.appendingPathComponent("f"))
        _ = try backup([src.path])
        let before = directoryListing(repo)
        let r = try failsOneLine(["init"])
        XCTAssertTrue(r.err.contains("already"), r.summary)
        // Also with another passphrase: still refused, and the old one still opens it.
        try failsOneLine(["init"], env: ["CAIRN_PASSWORD": "something else"])
        XCTAssertEqual(directoryListing(repo), before, "a refused init changed the repository")
        XCTAssertEqual(try snapshots().count, 1)
    }

    /// A non-empty directory that is not a repository: either refused with a
    /// clear message, or made a repository that works, and in both cases the
    /// files already there are untouched.
    func testInitOnNonEmptyNonRepositoryDirectoryLeavesItsFilesAlone() throws {
        let other = try makeDir("repo")
        let keep = other.appendingPathComponent("notes.txt")
        let keepData = TestData.text(5000, seed: 1)
        try write(keepData, to: keep)
        try write(Data("x".utf8), to: other.appendingPathComponent("sub/inner"))
        let r = try cli.run(["init"])
        XCTAssertFalse(r.signaled, r.summary)
        XCTAssertTrue(r.status == 0 || r.status == 1, r.summary)
        XCTAssertEqual(FileManager.default.contents(atPath: keep.path), keepData, "init changed an existing file")
        XCTAssertEqual(FileManager.default.contents(atPath: other.appendingPathComponent("sub/inner").path), Data("x".utf8))
        if r.status == 1 {
            assertCleanError(r)
            XCTAssertEqual(r.errLines.count, 1, r.summary)
        } else {
            let src = try makeDir("src")
            try write(TestData.random(10_000, seed: 2), to: src.appendingPathComponent("a"))
            _ = try backup([src.path])
            let out = try makeDir("out")
            try ok(["restore", "latest", "--target", out.path])
            XCTAssertEqual(FileManager.default.contents(atPath: restored(src, under: out).appendingPathComponent("a").path), TestData.random(10_000, seed: 2))
            XCTAssertEqual(FileManager.default.contents(atPath: keep.path), keepData)
        }
    }

    func testInitOnARegularFileFails() throws {
        let f = tmp.appendingPathComponent("afile")
        try write(Data("not a directory".utf8), to: f)
        try failsOneLine(["init", "--repo", f.path])
        XCTAssertEqual(FileManager.default.contents(atPath: f.path), Data("not a directory".utf8))
    }

    func testInitWithoutPassphraseFailsWithoutCreating() throws {
        let r = try failsOneLine(["init"], env: ["CAIRN_PASSWORD": nil])
        XCTAssertTrue(r.err.lowercased().contains("passphrase"), r.summary)
        XCTAssertFalse(FileManager.default.fileExists(atPath: repo.appendingPathComponent("config").path))
    }

    func testInitWithPasswordFile() throws {
        let pw = tmp.appendingPathComponent("pw")
        try write(Data("file secret\n".utf8), to: pw)
        try ok(["init", "--password-file", pw.path], env: ["CAIRN_PASSWORD": nil])
        // The trailing newline is not part of the passphrase.
        try ok(["snapshots"], env: ["CAIRN_PASSWORD": "file secret"])
        try ok(["snapshots"], env: ["CAIRN_PASSWORD": nil, "CAIRN_PASSWORD_FILE": pw.path])
    }

    /// init creates the missing parents of a local repository, as mkdir -p (issue 17).
    func testInitCreatesMissingParentDirectories() throws {
        let deep = tmp.appendingPathComponent("new/deeper/repo")
        let r = try ok(["init", "--repo", deep.path])
        XCTAssertTrue(r.err.contains(tmp.appendingPathComponent("new").path), r.summary)
        var st = stat()
        XCTAssertEqual(stat(deep.path, &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o700, "the repository directory stays private")
        _ = try ok(["snapshots", "--repo", deep.path])
        // A parent that is a file: a clear one-line error, nothing created.
        let file = tmp.appendingPathComponent("afile")
        try write(Data("x".utf8), to: file)
        let bad = try failsOneLine(["init", "--repo", file.path + "/sub/repo"])
        XCTAssertTrue(bad.err.lowercased().contains("not a directory"), bad.summary)
    }
}

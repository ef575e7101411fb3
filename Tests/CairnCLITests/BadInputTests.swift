import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The bad inputs of the CLI contract, each with its own test.
final class BadInputTests: CLITestCase {
    // MARK: wrong passphrase

    func testWrongPassphraseFailsClearlyAndWritesNothing() throws {
        try initRepo()
        let src = try makeDir("src")
        try write(TestData.random(50_000, seed: 61), to: src.appendingPathComponent("f"))
        let id = try backup([src.path]).string("snapshot_id")
        let before = directoryListing(repo)
        let wrong: [String: String?] = ["CAIRN_PASSWORD": "not the passphrase"]
        let commands: [[String]] = [
            ["snapshots"], ["backup", src.path], ["ls", "latest"], ["stats"], ["key", "list"], ["index", "rebuild"],
            ["restore", id, "--target", tmp.appendingPathComponent("out").path],
        ]
        for c in commands {
            let r = try failsOneLine(c, env: wrong)
            XCTAssertTrue(r.err.contains("wrong passphrase"), r.summary)
        }
        try failsOneLine(["backup", "--stdin", "--name", "x"], stdin: .data(Data("data".utf8)), env: wrong)
        try failsOneLine(["key", "add"], env: ["CAIRN_PASSWORD": "not the passphrase", "CAIRN_NEW_PASSWORD": "new"])
        // Through a password file as well.
        let pw = tmp.appendingPathComponent("wrong-pw")
        try write(Data("nope\n".utf8), to: pw)
        try failsOneLine(["backup", src.path, "--password-file", pw.path])
        XCTAssertEqual(directoryListing(repo), before, "a command with a wrong passphrase changed the repository")
        XCTAssertFalse(FileManager.default.fileExists(atPath: restored(src, under: tmp.appendingPathComponent("out")).path))
        // A missing or empty password file is an error too, not an empty passphrase.
        try failsOneLine(["snapshots", "--password-file", tmp.appendingPathComponent("absent").path])
        let empty = tmp.appendingPathComponent("empty-pw")
        try write(Data(), to: empty)
        try failsOneLine(["snapshots"], env: ["CAIRN_PASSWORD": nil, "CAIRN_PASSWORD_FILE": empty.path])
        try failsOneLine(["snapshots"], env: ["CAIRN_PASSWORD": nil])
        XCTAssertEqual(directoryListing(repo), before)
        // The right one still works.
        XCTAssertEqual(try snapshots().count, 1)
    }

    // MARK: paths

    func testPathThatDoesNotExist() throws {
        try initRepo()
        let before = directoryListing(repo)
        let missing = tmp.appendingPathComponent("no/such/dir").path
        let r = try failsOneLine(["backup", missing])
        XCTAssertTrue(r.err.contains(missing), r.summary)
        // One missing among existing ones: the backup fails as a whole rather than silently dropping it.
        let src = try makeDir("src")
        try write(Data("x".utf8), to: src.appendingPathComponent("x"))
        try failsOneLine(["backup", src.path, missing])
        XCTAssertEqual(try snapshots().count, 0)
        XCTAssertEqual(directoryListing(repo), before, "a failed backup of a missing path wrote to the repository")
    }

    /// An unreadable file and directory are reported, the rest is backed up, exit 3.
    /// Root reads mode-000 files, so as root the backup runs as `nobody` through setpriv.
    func testUnreadableFileIsSkippedWithExit3() throws {
        var runner = cli!
        if Posix.isRoot {
            guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else {
                throw XCTSkip("running as root without /usr/bin/setpriv: cannot make a file unreadable")
            }
            runner.launcher = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
            let probe = try runner.run(["--version"])
            guard probe.status == 0 else {
                throw XCTSkip("cannot run cairn as uid 65534 (is the binary's path traversable by others?): \(probe.summary)")
            }
        }
        let src = try makeDir("src")
        try write(TestData.random(300_000, seed: 62), to: src.appendingPathComponent("readable.bin"))
        try write(Data("fine".utf8), to: src.appendingPathComponent("sub/also-readable.txt"))
        try write(Data("secret".utf8), to: src.appendingPathComponent("secret.txt"))
        try write(Data("hidden".utf8), to: src.appendingPathComponent("closed-dir/inside.txt"))
        if Posix.isRoot {
            // Everything belongs to nobody, so only the mode bits keep it out.
            try Self.shell("chown -R 65534:65534 \(Self.quote(tmp.path))")
        }
        try Posix.chmod(src.appendingPathComponent("secret.txt").path, 0)
        try Posix.chmod(src.appendingPathComponent("closed-dir").path, 0)

        let initResult = try runner.run(["init"])
        XCTAssertEqual(initResult.status, 0, initResult.summary)
        let r = try runner.run(["backup", src.path, "--json"])
        XCTAssertEqual(r.status, 3, r.summary)
        XCTAssertTrue(r.err.contains("secret.txt"), "the unreadable file is named: \(r.summary)")
        XCTAssertTrue(r.err.contains("closed-dir"), "the unreadable directory is named: \(r.summary)")
        let j = try r.jsonObject()
        let warnings = (j["warnings"] as? [String]) ?? []
        XCTAssertEqual(warnings.count, 2, "\(j)")
        XCTAssertEqual(try j.int("files"), 2, "\(j)")

        // The rest is in the snapshot and restores (as whoever runs the tests).
        let out = tmp.appendingPathComponent("out")
        let restore = try runner.run(["restore", "latest", "--target", out.path])
        XCTAssertEqual(restore.status, 0, restore.summary)
        XCTAssertEqual(FileManager.default.contents(atPath: restored(src, under: out).appendingPathComponent("readable.bin").path), TestData.random(300_000, seed: 62))
        XCTAssertEqual(FileManager.default.contents(atPath: restored(src, under: out).appendingPathComponent("sub/also-readable.txt").path), Data("fine".utf8))
        XCTAssertFalse(FileManager.default.fileExists(atPath: restored(src, under: out).appendingPathComponent("secret.txt").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: restored(src, under: out).appendingPathComponent("closed-dir/inside.txt").path))
        let ls = try runner.run(["ls", "latest", "--json"])
        XCTAssertFalse(ls.out.contains("secret.txt"), ls.summary)
        let snaps = try runner.run(["snapshots", "--json"])
        XCTAssertEqual((try? snaps.jsonArray())?.count, 1, snaps.summary)
    }

    // MARK: damaged packs

    /// A repository with one snapshot of `src/big.bin` (random, so its pack is
    /// the largest) and `src/small.txt`.
    private func repoWithOnePack() throws -> (id: String, big: Data) {
        try initRepo()
        let src = try makeDir("src")
        let big = TestData.random(2 << 20, seed: 63)
        try write(big, to: src.appendingPathComponent("big.bin"))
        try write(Data("small".utf8), to: src.appendingPathComponent("small.txt"))
        let id = try backup([src.path]).string("snapshot_id")
        XCTAssertGreaterThanOrEqual(try packFiles().count, 2, "expected a data pack and a metadata pack")
        return (id, big)
    }

    /// Restore fails with exit 1, names the snapshot and the file, and leaves no
    /// file with wrong content under its final name.
    private func assertRestoreRefuses(id: String, big: Data, damage: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let out = tmp.appendingPathComponent("out-\(damage)")
        let src = tmp.appendingPathComponent("src")
        let r = try fails(["restore", id, "--target", out.path], code: 1, file: file, line: line)
        XCTAssertEqual(r.errLines.count, 1, r.summary, file: file, line: line)
        XCTAssertTrue(r.err.contains(String(id.prefix(8))), "names the snapshot: \(r.summary)", file: file, line: line)
        XCTAssertTrue(r.err.contains("big.bin"), "names the damaged path: \(r.summary)", file: file, line: line)
        let restoredBig = restored(src, under: out).appendingPathComponent("big.bin")
        if FileManager.default.fileExists(atPath: restoredBig.path) {
            XCTAssertEqual(FileManager.default.contents(atPath: restoredBig.path), big, "\(damage): a file with wrong content was left at its final name", file: file, line: line)
        }
        // Any other file left behind holds only bytes of the original.
        let under = restored(tmp, under: out)
        if let en = FileManager.default.enumerator(atPath: under.path) {
            while let rel = en.nextObject() as? String {
                guard rel.hasPrefix("src/big.bin"), rel != "src/big.bin",
                      let d = FileManager.default.contents(atPath: under.appendingPathComponent(rel).path) else { continue }
                XCTAssertTrue(big.starts(with: d) || d.isEmpty, "\(damage): leftover \(rel) holds unverified bytes", file: file, line: line)
            }
        }
        // Restoring only the damaged file fails the same way.
        let s = try cli.run(["restore", id, "--target", tmp.appendingPathComponent("out2-\(damage)").path, "--include", src.path + "/big.bin"])
        XCTAssertEqual(s.status, 1, s.summary, file: file, line: line)
    }

    func testCorruptedPackFailsRestoreNamingSnapshotAndPath() throws {
        let (id, big) = try repoWithOnePack()
        let pack = try packFiles()[0]
        try Posix.flipByte(pack, at: Posix.fileSize(pack) / 3)
        try assertRestoreRefuses(id: id, big: big, damage: "flipped")
        // small.txt is in the same pack but another blob: a restore of it alone still works.
        let out = tmp.appendingPathComponent("small-only")
        let src = tmp.appendingPathComponent("src")
        try ok(["restore", id, "--target", out.path, "--include", src.path + "/small.txt"])
        XCTAssertEqual(FileManager.default.contents(atPath: restored(src, under: out).appendingPathComponent("small.txt").path), Data("small".utf8))
    }

    func testCorruptedStreamPackFailsStdoutRestoreWithVerifiedPrefixOnly() throws {
        try initRepo()
        let data = TestData.random(3 << 20, seed: 64)
        let id = try backup(["--stdin", "--name", "stream"], stdin: .data(data)).string("snapshot_id")
        let pack = try packFiles()[0]
        try Posix.flipByte(pack, at: Posix.fileSize(pack) / 2)
        let r = try fails(["restore", id, "--stdout"], code: 1)
        XCTAssertTrue(r.err.contains(String(id.prefix(8))), r.summary)
        XCTAssertTrue(r.err.contains("stream"), "names the path: \(r.summary)")
        XCTAssertLessThan(r.stdout.count, data.count)
        XCTAssertTrue(data.starts(with: r.stdout), "bytes written to stdout before the failure must all be verified")
    }

    /// A damaged tree blob: with the tree cache gone, restore must fail with exit 1
    /// and say which snapshot it could not restore (not only which blob is bad).
    func testCorruptedMetadataPackFailsRestoreNamingSnapshot() throws {
        let (id, big) = try repoWithOnePack()
        let metadataPack = try XCTUnwrap(try packFiles().last)   // the smallest: trees and lists
        XCTAssertLessThan(Posix.fileSize(metadataPack), 64 << 10)
        try Posix.flipByte(metadataPack, at: 10)                 // inside its first blob
        try FileManager.default.removeItem(at: cache)            // trees are cached in the local index
        let out = tmp.appendingPathComponent("out")
        let r = try failsOneLine(["restore", id, "--target", out.path])
        XCTAssertTrue(r.err.contains("damaged"), r.summary)
        XCTAssertTrue(r.err.contains(String(id.prefix(8))), "names the snapshot: \(r.summary)")
        let restoredBig = restored(tmp.appendingPathComponent("src"), under: out).appendingPathComponent("big.bin")
        if FileManager.default.fileExists(atPath: restoredBig.path) {
            XCTAssertEqual(FileManager.default.contents(atPath: restoredBig.path), big)
        }
    }

    func testTruncatedPackFailsRestore() throws {
        let (id, big) = try repoWithOnePack()
        let pack = try packFiles()[0]
        try Posix.truncate(pack, to: Posix.fileSize(pack) / 2)
        try assertRestoreRefuses(id: id, big: big, damage: "truncated")
        // index rebuild that reads every pack header reports the damaged pack and exits 1.
        let r = try fails(["index", "rebuild", "--read-packs"], code: 1)
        XCTAssertTrue(r.err.contains(pack.lastPathComponent), r.summary)
    }

    func testMissingPackFailsRestore() throws {
        let (id, big) = try repoWithOnePack()
        let pack = try packFiles()[0]
        try FileManager.default.removeItem(at: pack)
        try assertRestoreRefuses(id: id, big: big, damage: "missing")
    }

    // MARK: not a repository

    func testNotARepository() throws {
        let emptyDir = try makeDir("empty")
        let randomFile = tmp.appendingPathComponent("random.bin")
        try write(TestData.random(4096, seed: 65), to: randomFile)
        let garbageConfig = try makeDir("garbage")
        try write(TestData.random(200, seed: 66), to: garbageConfig.appendingPathComponent("config"))
        let cases: [(String, String)] = [
            (emptyDir.path, "not a cairn repository"),
            (tmp.appendingPathComponent("does-not-exist").path, "not a cairn repository"),
            (randomFile.path, ""),
            (garbageConfig.path, ""),
        ]
        for (path, message) in cases {
            for args in [["snapshots"], ["backup", "--stdin", "--name", "x"], ["restore", "latest", "--stdout"]] {
                let r = try failsOneLine(args + ["--repo", path], stdin: .data(Data("x".utf8)))
                if !message.isEmpty { XCTAssertTrue(r.err.contains(message), r.summary) }
                XCTAssertTrue(r.err.contains(path) || r.err.contains("config"), "says what is wrong with which path: \(r.summary)")
            }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: emptyDir.path), [], "nothing is created in a non-repository")
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp.appendingPathComponent("does-not-exist").path))
        XCTAssertEqual(FileManager.default.contents(atPath: randomFile.path), TestData.random(4096, seed: 65))
        // No repository at all, or one that is no repository location: usage errors (exit 2).
        let r = try fails(["snapshots"], code: 2, env: ["CAIRN_REPO": nil])
        XCTAssertTrue(r.err.contains("CAIRN_REPO"), r.summary)
        try fails(["snapshots", "--repo", "ftp://example.com/x"], code: 2)
    }

    func testUnknownFormatVersion() throws {
        try initRepo()
        _ = try backup(["--stdin", "--name", "x"], stdin: .data(Data("x".utf8)))
        let config = repo.appendingPathComponent("config")
        var bytes = try Data(contentsOf: config)
        XCTAssertEqual(bytes[4], 2, "init writes format 2 (format-spec v2.md)"); XCTAssertEqual(bytes[5], 0)
        bytes[4] = 0x63; bytes[5] = 0x00
        try bytes.write(to: config)
        for args in [["snapshots"], ["restore", "latest", "--stdout"], ["backup", "--stdin", "--name", "y"]] {
            let r = try failsOneLine(args, stdin: .data(Data("y".utf8)))
            let e = r.err.lowercased()
            XCTAssertTrue(e.contains("version"), r.summary)
            XCTAssertTrue(e.contains("99"), r.summary)
            XCTAssertTrue(e.contains("upgrade"), r.summary)
            XCTAssertFalse(e.contains("passphrase"), "a newer format is not a wrong passphrase: \(r.summary)")
        }
        // Also with a wrong passphrase: the version is what is reported.
        let r = try failsOneLine(["snapshots"], env: ["CAIRN_PASSWORD": "wrong"])
        XCTAssertTrue(r.err.lowercased().contains("version"), r.summary)
        // init refuses to overwrite it.
        try failsOneLine(["init"])
    }
}

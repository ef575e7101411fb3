import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Dedup across snapshots and sources, and the unchanged-file shortcut of re-backups.
final class DedupTests: CLITestCase {
    func testSameBytesAsFileThenAsStdinAddNothing() throws {
        try initRepo()
        let data = TestData.random(3 << 20, seed: 41) + TestData.text(1 << 20, seed: 42)
        let f = tmp.appendingPathComponent("in/dump.bin")
        try write(data, to: f)
        for profile in ["dump", "file"] {
            let asFile = try backup([f.path, "--name", "file-\(profile)", "--chunk-profile", profile])
            let asStream = try backup(["--stdin", "--name", "stream-\(profile)", "--chunk-profile", profile], stdin: .data(data))
            let newStream = try asStream.int("new_bytes")
            XCTAssertLessThan(newStream, data.count / 100, "profile \(profile): the stream of a backed-up file added \(newStream) new bytes")
            XCTAssertEqual(try restoreStdout("latest", name: "stream-\(profile)"), data)
            XCTAssertEqual(try restoreStdout("latest", name: "file-\(profile)"), data)
            if profile == "dump" {
                XCTAssertEqual(try asFile.int("new_bytes"), data.count, "first copy is new")
            } else {
                // Other cut points: most of the data is new again.
                XCTAssertGreaterThan(try asFile.int("new_bytes"), data.count / 2)
            }
            // And the other way round: the file under another name adds nothing either.
            let copy = tmp.appendingPathComponent("in2/other-name.bin")
            try write(data, to: copy)
            let again = try backup([copy.path, "--name", "copy-\(profile)", "--chunk-profile", profile])
            XCTAssertLessThan(try again.int("new_bytes"), data.count / 100, "\(again)")
            try FileManager.default.removeItem(at: copy)
        }
        // An unknown profile is a bad option value: a usage error, like every other.
        let r = try fails(["backup", "--stdin", "--name", "x", "--chunk-profile", "nonsense"], code: 2, stdin: .data(Data("x".utf8)))
        XCTAssertTrue(r.err.contains("unknown chunker profile \"nonsense\""), r.summary)
    }

    func testSharedContentAcrossSnapshotsAndFiles() throws {
        try initRepo()
        let shared = TestData.random(2 << 20, seed: 43)
        let a = try makeDir("a"), b = try makeDir("b")
        try write(shared, to: a.appendingPathComponent("one"))
        try write(shared, to: a.appendingPathComponent("two-same-content"))
        try write(shared, to: b.appendingPathComponent("three"))
        let ra = try backup([a.path])
        XCTAssertLessThan(try ra.int("new_bytes"), shared.count + shared.count / 100, "two equal files in one backup: \(ra)")
        XCTAssertEqual(try ra.int("logical_bytes"), 2 * shared.count)
        let rb = try backup([b.path])
        XCTAssertLessThan(try rb.int("new_bytes"), shared.count / 100, "\(rb)")
        let stats = try ok(["stats", "--json"]).jsonObject()
        XCTAssertGreaterThan(try stats.double("dedup_ratio"), 2.5, "\(stats)")
    }

    func testRebackupOfUnchangedTreeReadsNothing() throws {
        try initRepo()
        let src = try makeDir("src")
        var files: [URL] = []
        for i in 0..<6 {
            let u = src.appendingPathComponent(i % 2 == 0 ? "f\(i)" : "sub/f\(i)")
            try write(i == 0 ? Data() : TestData.random(200_000 * i, seed: UInt64(50 + i)), to: u)
            files.append(u)
        }
        let first = try backup([src.path])
        XCTAssertEqual(try first.int("files"), 6)
        XCTAssertEqual(try first.int("unchanged_files"), 0)

        let second = try backup([src.path])
        XCTAssertEqual(try second.int("unchanged_files"), 6, "\(second)")
        XCTAssertEqual(try second.int("new_bytes"), 0, "\(second)")
        XCTAssertEqual(try second.int("logical_bytes"), try first.int("logical_bytes"))

        let forced = try backup([src.path, "--force-read"])
        XCTAssertEqual(try forced.int("unchanged_files"), 0, "\(forced)")
        XCTAssertEqual(try forced.int("new_bytes"), 0, "\(forced)")
        XCTAssertEqual(try forced.int("files"), 6)

        // Rewrite one file with new bytes of the same size.
        let changed = files[3]
        let newContent = TestData.random(600_000, seed: 99)
        try newContent.write(to: changed)
        let third = try backup([src.path])
        XCTAssertEqual(try third.int("unchanged_files"), 5, "only the modified file is re-read: \(third)")
        XCTAssertGreaterThan(try third.int("new_bytes"), 0)
        XCTAssertLessThanOrEqual(try third.int("new_bytes"), newContent.count)

        // Touching only the mtime re-reads the file but stores nothing new.
        try Posix.setMtime(files[5].path, nanos: 1_650_000_000_000_000_000)
        let fourth = try backup([src.path])
        XCTAssertEqual(try fourth.int("unchanged_files"), 5, "\(fourth)")
        XCTAssertEqual(try fourth.int("new_bytes"), 0, "\(fourth)")

        // Another snapshot name has its own history: nothing is skipped, nothing is new.
        let other = try backup([src.path, "--name", "other"])
        XCTAssertEqual(try other.int("unchanged_files"), 0, "\(other)")
        XCTAssertEqual(try other.int("new_bytes"), 0, "\(other)")

        // Every snapshot still restores to what was there at its time.
        let out = tmp.appendingPathComponent("out")
        try ok(["restore", "latest", "--name", "src", "--target", out.path])
        assertTreesEqual(try TreeSnapshot.capture(src), try TreeSnapshot.capture(restored(src, under: out)))
        let out1 = tmp.appendingPathComponent("out1")
        try ok(["restore", try first.string("snapshot_id"), "--target", out1.path])
        XCTAssertEqual(FileManager.default.contents(atPath: restored(src, under: out1).appendingPathComponent("sub/f3").path), TestData.random(600_000, seed: 53))
    }
}

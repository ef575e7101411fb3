import Foundation
import XCTest

/// A repository on a full file system: a small tmpfs (root only).
final class FullDiskTests: CLITestCase {
    func testFullDiskFailsCleanlyAndTheRepositoryStillWorks() throws {
        let mountPoint = try makeDir("small-fs")
        let mount = try Self.shell("mount -t tmpfs -o size=3m tmpfs \(Self.quote(mountPoint.path))")
        guard mount.status == 0 else {
            throw XCTSkip("cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN): \(mount.err)")
        }
        let mp = mountPoint.path
        addTeardownBlock { _ = try? Self.shell("umount \(Self.quote(mp)) || umount -l \(Self.quote(mp))") }

        let repoOnTmpfs = mountPoint.appendingPathComponent("repo")
        cli.environment["CAIRN_REPO"] = repoOnTmpfs.path
        try initRepo(["--pack-size-mib", "1"])
        let data = TestData.random(10 << 20, seed: 71)
        let r = try fails(["backup", "--stdin", "--name", "big"], code: 1, stdin: .data(data))
        XCTAssertEqual(r.errLines.count, 1, r.summary)
        XCTAssertTrue(r.err.lowercased().contains("no space"), r.summary)
        // The repository opens and lists no snapshot: the failed one never committed.
        XCTAssertEqual(try snapshots().count, 0)
        // No temp files are left behind by the failed writes.
        let tmpDir = repoOnTmpfs.appendingPathComponent("tmp").path
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: tmpDir)) ?? [], [])

        // A second attempt on the still-full disk fails the same way.
        try fails(["backup", "--stdin", "--name", "big"], code: 1, stdin: .data(data))
        XCTAssertEqual(try snapshots().count, 0)

        // Free space (grow the file system), then the same backup succeeds and restores.
        let grow = try Self.shell("mount -o remount,size=40m \(Self.quote(mp))")
        XCTAssertEqual(grow.status, 0, grow.err)
        let ok1 = try backup(["--stdin", "--name", "big"], stdin: .data(data))
        XCTAssertLessThanOrEqual(try ok1.int("new_bytes"), data.count)
        let small = TestData.text(100_000, seed: 72)
        _ = try backup(["--stdin", "--name", "small"], stdin: .data(small))
        let snaps = try snapshots()
        XCTAssertEqual(Set(try snaps.map { try $0.string("name") }), ["big", "small"])
        XCTAssertEqual(try restoreStdout("latest", name: "big"), data)
        XCTAssertEqual(try restoreStdout("latest", name: "small"), small)
        // And the index rebuilt from the store agrees (no half-written pack is damaged).
        let rebuilt = try ok(["index", "rebuild", "--json"]).jsonObject()
        XCTAssertEqual((rebuilt["damaged_packs"] as? [Any])?.count, 0, "\(rebuilt)")
        XCTAssertEqual(try restoreStdout("latest", name: "big"), data)
    }
}

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

    /// Issue 20.3: backups fill the file system to the last byte; a delete-only
    /// forget+prune still runs (its lock and index come out of the reserve
    /// `init` made), frees space, and the next backup works.
    func testAFullRepositoryCanBePruned() throws {
        let mountPoint = try makeDir("full-fs")
        let mount = try Self.shell("mount -t tmpfs -o size=24m tmpfs \(Self.quote(mountPoint.path))")
        guard mount.status == 0 else {
            throw XCTSkip("cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN): \(mount.err)")
        }
        let mp = mountPoint.path
        addTeardownBlock { _ = try? Self.shell("umount \(Self.quote(mp)) || umount -l \(Self.quote(mp))") }
        let repo = mountPoint.appendingPathComponent("repo")
        cli.environment["CAIRN_REPO"] = repo.path
        try initRepo(["--pack-size-mib", "1"])
        let reserve = repo.appendingPathComponent("reserve").path
        let reserved = (try? FileManager.default.attributesOfItem(atPath: reserve)[.size] as? Int) ?? 0
        XCTAssertGreaterThanOrEqual(reserved, 1 << 20, "init made a space reserve")

        // Day after day of new data until the disk is full.
        var days: [Data] = []
        var full = false
        for day in 0..<20 where !full {
            let data = TestData.random(3 << 20, seed: UInt64(200 + day))
            let r = try cli.run(["backup", "--stdin", "--name", "daily"], stdin: .data(data))
            if r.status == 0 { days.append(data) } else {
                XCTAssertTrue(r.err.lowercased().contains("no space"), r.summary)
                full = true
            }
        }
        XCTAssertTrue(full, "the backups filled the file system")
        XCTAssertGreaterThanOrEqual(days.count, 2)
        // The last bytes: a filler file takes whatever a pack could not.
        _ = try Self.shell("dd if=/dev/zero of=\(Self.quote(mp))/filler bs=4k 2>/dev/null; sync")
        let df = try Self.shell("df -B1 --output=avail \(Self.quote(mp)) | tail -1")
        XCTAssertEqual(df.out.trimmingCharacters(in: .whitespacesAndNewlines), "0", "full to the last byte")
        // Even a lock cannot be written now: a backup fails cleanly.
        try fails(["backup", "--stdin", "--name", "daily"], code: 1, stdin: .data(TestData.text(1000, seed: 1)))

        // The way out: a delete-only forget+prune.
        let pruned = try ok(["forget", "--name", "daily", "--keep-last", "1", "--prune", "--max-repack", "0"])
        XCTAssertTrue(pruned.err.contains("released its"), "says it used the reserve: \(pruned.summary)")
        let after = try Self.shell("df -B1 --output=avail \(Self.quote(mp)) | tail -1")
        XCTAssertGreaterThan(Int(after.out.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, 4 << 20, "space was freed")
        XCTAssertTrue(FileManager.default.fileExists(atPath: reserve), "the reserve is made again once space is free")

        // The next backup works, the kept snapshot restores, the repository is clean.
        let next = TestData.random(2 << 20, seed: 999)
        _ = try backup(["--stdin", "--name", "daily"], stdin: .data(next))
        XCTAssertEqual(try restoreStdout("latest", name: "daily"), next)
        XCTAssertEqual(try snapshots().count, 2)
        let kept = try snapshots().compactMap { $0["id"] as? String }
        let restoredDays = try kept.map { try ok(["restore", $0, "--stdout"]).stdout }
        XCTAssertTrue(restoredDays.contains(days.last!), "the newest day before the prune is kept and restores")
        try ok(["scrub", "--read-data"])
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: repo.appendingPathComponent("tmp").path)) ?? [], [])
    }
}

import CairnTestSupport
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

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
                assertTreesEqual(t, try TreeSnapshot.capture(restored(tmp.appendingPathComponent("src"), under: out)), CompareOptions(), "\(context) \(id.prefix(8)):", file: file, line: line)
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

    // MARK: the cache never blames the repository (issue 21.1)

    /// The cache's SQLite file (one repository per test).
    func cacheDatabase() throws -> URL {
        let dirs = try FileManager.default.contentsOfDirectory(atPath: cache.path).filter { $0.count == 64 }
        XCTAssertEqual(dirs.count, 1, "one repository cache")
        return cache.appendingPathComponent(dirs[0]).appendingPathComponent("index.sqlite")
    }

    /// Runs SQL on the cache with Python's sqlite3 (another writer than cairn).
    func poisonCache(_ sql: String) throws {
        let r = try Self.shell("python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()' \(Self.quote(try cacheDatabase().path)) \(Self.quote(sql))")
        XCTAssertEqual(r.status, 0, r.err)
    }

    /// A cache another process keeps locked past the busy timeout is not damaged: the command
    /// fails with SQLite's reason in one line and leaves the cache, which other processes
    /// share, where it is (it used to be deleted and refilled as if damaged).
    func testACacheLockedByAnotherProcessIsNotThrownAway() throws {
        _ = try makeSnapshots()
        let db = try cacheDatabase()
        func inode() throws -> UInt64 { try XCTUnwrap(FileManager.default.attributesOfItem(atPath: db.path)[.systemFileNumber] as? UInt64) }
        let before = try inode()
        let ready = tmp.appendingPathComponent("holder-ready")
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        holder.arguments = ["python3", "-c", """
            import sqlite3, sys, time
            c = sqlite3.connect(sys.argv[1], isolation_level=None)
            c.execute("PRAGMA locking_mode=EXCLUSIVE")
            c.execute("BEGIN EXCLUSIVE")
            c.execute("CREATE TABLE IF NOT EXISTS holder_probe(x)")
            open(sys.argv[2], "w").close()
            time.sleep(14)
            c.execute("ROLLBACK")
            """, db.path, ready.path]
        try holder.run()
        defer { if holder.isRunning { holder.terminate() }; holder.waitUntilExit() }
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: ready.path) && Date() < deadline { usleep(50_000) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: ready.path), "the lock holder did not start")
        let locked = try cli.run(["snapshots"], stdin: .none, env: [:])
        XCTAssertNotEqual(locked.status, 0, locked.summary)
        XCTAssertTrue(locked.err.contains("locked") || locked.err.contains("busy"), locked.summary)
        XCTAssertFalse(locked.err.contains("damaged") || locked.err.contains("rebuilding"), locked.summary)
        holder.waitUntilExit()
        XCTAssertEqual(try inode(), before, "the cache file was replaced")
        let after = try ok(["snapshots"])
        XCTAssertFalse(after.err.contains("damaged") || after.err.contains("reloading"), after.summary)
    }

    /// No message blames the repository for what the cache lacked.
    func assertNoBlame(_ r: CLIResult, _ context: String, file: StaticString = #filePath, line: UInt = #line) {
        for phrase in ["repository is incomplete", "named by no index object", "not in the index"] {
            XCTAssertFalse(r.err.contains(phrase), "\(context): \(r.summary)", file: file, line: line)
        }
    }

    /// The state a `cairn index rebuild` killed inside its old reset left (1 of 19 kills in
    /// the issue): packs and blob locations deleted, index objects still marked loaded. Every
    /// later command heals it: restores are byte-identical, a backup dedups again, and no
    /// message says the repository is incomplete.
    func testCachePoisonedByAKilledResetHealsItself() throws {
        var expected = try makeSnapshots()
        try poisonCache("DELETE FROM packs; DELETE FROM blobs;")
        let healed = try ok(["snapshots"])
        XCTAssertTrue(healed.err.contains("disagrees with the store"), healed.summary)
        assertNoBlame(healed, "first command after the poisoning")
        try assertEverySnapshotRestores(expected, "after the cache healed")
        let again = try backup(["--stdin", "--name", "stream"], stdin: .data(TestData.random(2_500_000, seed: 104)))
        XCTAssertEqual(try again.int("new_bytes"), 0, "the healed cache dedups: \(again)")
        expected[try again.string("snapshot_id")] = .stream(TestData.random(2_500_000, seed: 104))

        // Locations of some blobs missing while the cache still looks consistent: the first
        // lookup that misses reloads the cache from the store, and the restore completes.
        try poisonCache("DELETE FROM blobs WHERE type=0;")
        for (id, e) in expected {
            guard case .stream(let d) = e else { continue }
            let r = try ok(["restore", id, "--stdout"])
            XCTAssertTrue(r.stdout == d, "stream restore after data locations vanished from the cache")
            assertNoBlame(r, "restore with data locations missing from the cache")
        }
        try assertEverySnapshotRestores(expected, "after reloading on a miss")
    }

    /// `cairn index rebuild` (both kinds) killed at random moments: after each kill every
    /// snapshot restores byte-identical, a backup of unchanged data stores nothing new, and
    /// nothing blames the repository.
    func testKilledIndexRebuildNeverPoisonsTheCache() throws {
        var expected = try makeSnapshots()
        let stream = TestData.random(2_500_000, seed: 104)
        let timed = Date()
        try ok(["index", "rebuild", "--read-packs"])
        let span = max(0.05, Date().timeIntervalSince(timed))
        var rng = SplitMix64(seed: UInt64(UInt32.random(in: 0...UInt32.max)))
        var log: [String] = []
        for round in 0..<6 {
            let flags = round % 2 == 0 ? ["--read-packs"] : []
            let delay = Double(rng.next() % 1000) / 1000 * span
            let running = try cli.start(["index", "rebuild"] + flags)
            usleep(UInt32(delay * 1_000_000))
            running.kill(SIGKILL)
            let r = running.wait(timeout: 60)
            log.append("round \(round) \(flags): killed after \(Int(delay * 1000)) ms -> \(r.signaled ? "killed" : "exit \(r.status)")")
            let listed = try ok(["snapshots"])
            assertNoBlame(listed, log.last!)
            try assertEverySnapshotRestores(expected, log.last!)
            let again = try ok(["backup", "--json", "--stdin", "--name", "stream"], stdin: .data(stream))
            assertNoBlame(again, log.last!)
            XCTAssertEqual(try again.jsonObject().int("new_bytes"), 0, "\(log.last!): \(again.summary)")
            expected[try again.jsonObject().string("snapshot_id")] = .stream(stream)
        }
        print("kill-rebuild rounds:\n  " + log.joined(separator: "\n  "))
    }
}

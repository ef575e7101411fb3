import CairnTestSupport
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A delta blob is usable only while its base is indexed and stored whole
/// (format-spec §8): prune keeps the base or drops the delta, dedup never
/// reuses a delta it could not decode, scrub names such deltas and repair
/// rewrites their packs. All through the real binary.
final class DeltaBaseTests: CLITestCase {
    /// Day 1: a 4 MiB stream. Day 2: the same with a byte flipped every 8 KiB
    /// (every chunk a delta against day 1) plus 24 MiB of new data. Day 3: the
    /// new data alone.
    struct Days {
        let day1: URL, day2: URL, day3: URL
    }

    func makeDays(old oldSize: Int = 4 << 20, new newSize: Int = 24 << 20) throws -> Days {
        let old = TestData.random(oldSize, seed: 141)
        var flipped = old
        for i in stride(from: 0, to: flipped.count, by: 8192) { flipped[i] ^= 0xFF }
        let new = TestData.random(newSize, seed: 142)
        let days = Days(day1: tmp.appendingPathComponent("day1"), day2: tmp.appendingPathComponent("day2"), day3: tmp.appendingPathComponent("day3"))
        try old.write(to: days.day1)
        try (flipped + new).write(to: days.day2)
        try new.write(to: days.day3)
        return days
    }

    /// Backs up the three days; checks day 2's old part really went in as deltas.
    func backupThreeDays(_ days: Days, old: Int = 4 << 20, new: Int = 24 << 20) throws {
        _ = try backup(["--stdin", "--name", "db"], stdin: .file(days.day1))
        let two = try backup(["--stdin", "--name", "db"], stdin: .file(days.day2))
        // Without deltas day 2 stores old + new bytes (random data does not compress).
        XCTAssertLessThan(try two.int("stored_bytes"), new + old / 4, "day 2 should be stored as deltas against day 1: \(two)")
        _ = try backup(["--stdin", "--name", "db"], stdin: .file(days.day3))
    }

    /// Backs up day 2 again and restores that snapshot: byte-identical.
    func backupDay2AgainAndRestore(_ days: Days, file: StaticString = #filePath, line: UInt = #line) throws {
        let again = try backup(["--stdin", "--name", "db"], stdin: .file(days.day2), file: file, line: line)
        let id = try again.string("snapshot_id")
        let out = tmp.appendingPathComponent("restored-\(id.prefix(8))")
        try ok(["restore", id, "--stdout"], file: file, line: line).stdout.write(to: out)
        XCTAssertTrue(try TestData.filesEqual(out, days.day2), "day 2 backed up again must restore byte-identical", file: file, line: line)
    }

    /// The issue's reproduction: forget --keep-last 1 --prune after the three
    /// days used to delete day 1's pack while an unused day-2 delta stayed
    /// indexed; backing up day 2 again deduped against it and the new snapshot
    /// could not be restored (while the backup exited 0).
    func testRetentionCycleThenBackupAgainRestoresByteIdentical() throws {
        let days = try makeDays()
        try initRepo()
        try backupThreeDays(days)
        try ok(["forget", "--keep-last", "1", "--prune"])
        try backupDay2AgainAndRestore(days)
        try ok(["scrub", "--read-data"])
        // Every snapshot left restores too (day 3 and the new day 2).
        for s in try snapshots() {
            let id = try s.string("id")
            let expected = try s.int("logical_bytes") == 24 << 20 ? days.day3 : days.day2
            let out = tmp.appendingPathComponent("all-\(id.prefix(8))")
            try ok(["restore", id, "--stdout"]).stdout.write(to: out)
            XCTAssertTrue(try TestData.filesEqual(out, expected), "snapshot \(id.prefix(8)) restores wrong")
        }
    }

    /// With no repack budget prune cannot drop the unused deltas by
    /// repacking: it keeps their bases instead.
    func testPruneWithoutRepackBudgetKeepsTheBases() throws {
        let days = try makeDays()
        try initRepo()
        try backupThreeDays(days)
        try ok(["forget", "--keep-last", "1"])
        let pruned = try ok(["prune", "--max-repack", "0", "--json"]).jsonObject()
        XCTAssertEqual(try pruned.int("packs_repacked"), 0)
        XCTAssertGreaterThan(try pruned.int("delta_bases_kept"), 0, "\(pruned)")
        try ok(["scrub", "--read-data"])
        try backupDay2AgainAndRestore(days)
        try ok(["scrub", "--read-data"])
    }

    /// A repository already holding deltas whose base is gone (made here the
    /// way a damaged store gets there: the base pack and the index objects
    /// lost, the index rebuilt from the remaining pack headers): scrub names
    /// the deltas, a backup does not dedup against them, prune drops them, and
    /// on another copy of the damage `repair` rewrites the pack without them.
    func testUndecodableDeltasAreNamedNeverReusedAndRepaired() throws {
        let days = try makeDays()
        try initRepo(["--pack-size-mib", "2"])
        _ = try backup(["--stdin", "--name", "db"], stdin: .file(days.day1))
        let day1Packs = try packFiles()
        _ = try backup(["--stdin", "--name", "db"], stdin: .file(days.day2))
        _ = try backup(["--stdin", "--name", "db"], stdin: .file(days.day3))
        try ok(["forget", "--keep-last", "1"])
        // Day 1's packs and every index object are lost; the index is rebuilt from the
        // remaining pack headers, which still name day 2's deltas against day 1.
        for f in day1Packs { try FileManager.default.removeItem(at: f) }
        let indexDir = repo.appendingPathComponent("index")
        for f in try FileManager.default.contentsOfDirectory(atPath: indexDir.path) {
            try FileManager.default.removeItem(at: indexDir.appendingPathComponent(f))
        }
        try FileManager.default.removeItem(at: cache)
        try ok(["index", "rebuild", "--read-packs"])

        let damaged = tmp.appendingPathComponent("damaged-copy")
        try FileManager.default.copyItem(at: repo, to: damaged)

        // Scrub names the pack holding the deltas and says repair rewrites it.
        let scrub = try fails(["scrub", "--json"], code: 4)
        let report = try scrub.jsonObject()
        let packs = report["damaged_packs"] as? [[String: Any]] ?? []
        XCTAssertTrue(packs.contains { ($0["problem"] as? String ?? "").contains("base is stored whole in no pack") }, scrub.summary)
        // Backing up day 2 again stores the chunks again and restores.
        try backupDay2AgainAndRestore(days)
        // Prune drops the undecodable deltas (by repacking their pack); the scrub is clean.
        try ok(["prune"])
        try ok(["scrub", "--read-data"])

        // The same damage, repaired instead of pruned.
        cli.environment["CAIRN_REPO"] = damaged.path
        cli.environment["CAIRN_CACHE_DIR"] = tmp.appendingPathComponent("cache-damaged").path
        let repaired = try ok(["repair"])
        XCTAssertTrue(repaired.out.contains("scrub after repair: clean"), repaired.summary)
        XCTAssertFalse(repaired.out.contains("fetched from -"), repaired.summary)
        try ok(["scrub", "--read-data"])
        try backupDay2AgainAndRestore(days)
    }

    /// SIGKILL `cairn copy` at random moments, into a repository sharing the
    /// chunker (deltas copied by id), one sharing the master keys (whole packs
    /// copied as they are) and into a foreign one (re-chunked, deltas
    /// against the destination's chunks): after every kill the destination
    /// scrubs clean with --read-data (no dangling delta) and every snapshot in
    /// it restores byte-identical; a final copy completes.
    func testKilledCopyNeverLeavesADanglingDelta() throws {
        // Small, so that each copy takes a fraction of a second and the kills land all over it.
        let days = try makeDays(old: 2 << 20, new: 3 << 20)
        try initRepo()
        try backupThreeDays(days, old: 2 << 20, new: 3 << 20)
        let expected: [Int: URL] = [2 << 20: days.day1, 5 << 20: days.day2, 3 << 20: days.day3]
        let shared = tmp.appendingPathComponent("replica"), foreign = tmp.appendingPathComponent("foreign")
        // Sharing the master keys: whole packs copied as they are, deltas' bases first (issue 16.5).
        let sameKeys = tmp.appendingPathComponent("same-keys")
        try ok(["init", "--repo", shared.path, "--copy-chunker-from", repo.path, "--pack-size-mib", "1"])
        try ok(["init", "--repo", sameKeys.path, "--copy-keys-from", repo.path, "--pack-size-mib", "1"])
        try ok(["init", "--repo", foreign.path, "--pack-size-mib", "1"])
        // Seconds a whole copy takes on this machine: the kills are spread over it.
        let timing = tmp.appendingPathComponent("timing")
        try ok(["init", "--repo", timing.path, "--copy-chunker-from", repo.path, "--pack-size-mib", "1"])
        let timed = Date()
        try ok(["copy", "--to", timing.path])
        let span = max(0.1, Date().timeIntervalSince(timed))
        var rng = SplitMix64(seed: UInt64(UInt32.random(in: 0...UInt32.max)))
        var log: [String] = []
        for destination in [shared, sameKeys, foreign] {
            for round in 0..<3 {
                let delay = Int(Double(rng.next() % 1000) / 1000 * span * 1_000_000)
                let running = try cli.start(["copy", "--to", destination.path])
                usleep(UInt32(delay))
                let finished = !running.isRunning
                running.kill(SIGKILL)
                let r = running.wait(timeout: 120)
                log.append("\(destination.lastPathComponent) round \(round): killed after \(delay / 1000) ms\(finished ? " (already done)" : "") -> \(r.signaled ? "killed" : "exit \(r.status)")")
                try checkClean(destination, expected: expected, context: log.last!)
            }
            try ok(["copy", "--to", destination.path])
            try checkClean(destination, expected: expected, context: "\(destination.lastPathComponent) after the final copy")
            XCTAssertEqual(try snapshots(["--repo", destination.path]).count, 3)
        }
        print("kill-copy rounds:\n  " + log.joined(separator: "\n  "))
    }

    private func checkClean(_ destination: URL, expected: [Int: URL], context: String) throws {
        let scrub = try cli.run(["scrub", "--read-data", "--repo", destination.path])
        XCTAssertEqual(scrub.status, 0, "\(context): \(scrub.summary)")
        for s in try snapshots(["--repo", destination.path]) {
            let id = try s.string("id")
            let out = tmp.appendingPathComponent("copy-\(id.prefix(8))")
            try ok(["restore", id, "--stdout", "--repo", destination.path]).stdout.write(to: out)
            guard let want = expected[try s.int("logical_bytes")] else { XCTFail("\(context): unexpected snapshot \(s)"); continue }
            XCTAssertTrue(try TestData.filesEqual(out, want), "\(context): snapshot \(id.prefix(8)) restores wrong")
        }
    }
}

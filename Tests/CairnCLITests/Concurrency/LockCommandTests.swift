import Foundation
import XCTest

/// What a person sees: a prune that meets a running backup fails with one
/// line naming it, or waits with --wait-lock; a killed backup's lock is shown
/// as stale and removed by the next command with a warning.
final class LockCommandTests: XCTestCase {
    func testConflictWaitAndStaleLockOfAKilledBackup() throws {
        let race = CairnProcess.self
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-lockcli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let env = ["CAIRN_REPO": "\(dir)/repo", "CAIRN_PASSWORD": "locks", "CAIRN_CACHE_DIR": "\(dir)/cache"]
        XCTAssertEqual(try race.run(["init"], env: env).status, 0)

        // A backup reading from a pipe that stays open holds its shared lock.
        let (backup, pid, feed) = try CairnProcess.startPipedBackup(env: env, name: "slow")
        try waitForLock(race, env: env)
        let blocked = try race.run(["prune"], env: env)
        XCTAssertEqual(blocked.status, 1)
        let lines = blocked.err.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, blocked.err)
        XCTAssertTrue(blocked.err.contains("locked by backup (shared) of PID \(pid) on host"), blocked.err)
        XCTAssertTrue(blocked.err.contains("--wait-lock"), blocked.err)
        let locks = try race.run(["locks"], env: env)
        XCTAssertTrue(locks.out.contains("backup (shared) of PID \(pid)") && locks.out.contains("[live]"), locks.out)

        // --wait-lock: the prune waits until the backup finishes.
        let waiting = try race.start(["prune", "--wait-lock", "60s"], env: env)
        Thread.sleep(forTimeInterval: 1.5)
        try feed.write(contentsOf: Data(race.bytes(100_000, seed: 1)))
        try feed.close()
        XCTAssertEqual(backup().status, 0)
        let waited = waiting()
        XCTAssertEqual(waited.status, 0, waited.err)

        // A backup killed with SIGKILL leaves its lock; on this host it is stale at once.
        let (killed, killedPID, killedFeed) = try CairnProcess.startPipedBackup(env: env, name: "killed")
        try waitForLock(race, env: env)
        kill(killedPID, SIGKILL)
        _ = killed()
        try? killedFeed.close()
        let stale = try race.run(["locks"], env: env)
        XCTAssertTrue(stale.out.contains("STALE: process \(killedPID) on this host"), stale.out)
        let pruned = try race.run(["prune"], env: env)
        XCTAssertEqual(pruned.status, 0, pruned.err)
        XCTAssertTrue(pruned.err.contains("removed stale lock") && pruned.err.contains("PID \(killedPID)"), pruned.err)
        XCTAssertEqual(try race.run(["locks", "--json"], env: env).out.trimmingCharacters(in: .whitespacesAndNewlines), "[]")
    }

    /// Waits until some lock is listed (the backup has taken its lock).
    func waitForLock(_ race: CairnProcess.Type, env: [String: String]) throws {
        for _ in 0..<100 {
            if try race.run(["locks", "--json"], env: env).out.contains("\"pid\"") { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        XCTFail("the backup never took its lock")
    }
}

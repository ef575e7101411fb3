import Foundation
import XCTest

/// Real `cairn` processes: `scrub --read-data` (which takes no exclusive lock)
/// while backups keep committing new snapshots. A snapshot committed during
/// the scrub is not damage; the scrub must exit 0 every time (issue 14.8).
final class ScrubBackupRaceTests: XCTestCase {
    func testScrubDoesNotReportABackupCommittedMeanwhile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-scrub-race-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let env = ["CAIRN_REPO": "\(dir)/repo", "CAIRN_PASSWORD": "race", "CAIRN_CACHE_DIR": "\(dir)/cache"]
        // The scrub runs on another machine's cache, as a nightly scrub host would.
        var scrubEnv = env
        scrubEnv["CAIRN_CACHE_DIR"] = "\(dir)/cache-scrub"
        XCTAssertEqual(try CairnProcess.run(["init", "--pack-size-mib", "1"], env: env).status, 0)
        // Enough data that reading it back takes a while: the backups land inside that time.
        let big = "\(dir)/big"
        XCTAssertTrue(FileManager.default.createFile(atPath: big, contents: Data(CairnProcess.bytes(24 << 20, seed: 1))))
        let first = try CairnProcess.run(["backup", "--stdin", "--name", "big"], env: env, stdin: big)
        XCTAssertEqual(first.status, 0, first.err)

        var committedDuringScrubs = 0
        for round in 0..<3 {
            let scrub = try CairnProcess.start(["scrub", "--read-data", "--json"], env: scrubEnv)
            let running = ScrubWatch()
            // Backups of new data, one after another, until the scrub is done.
            let backups = Thread {
                var n = 0
                while !running.done {
                    let f = "\(dir)/small-\(round)-\(n)"
                    XCTAssertTrue(FileManager.default.createFile(atPath: f, contents: Data(CairnProcess.bytes(300_000, seed: UInt64(1000 * round + n)))))
                    if let r = try? CairnProcess.run(["backup", "--stdin", "--name", "wal", "--wait-lock", "60s"], env: env, stdin: f), r.status == 0, !running.done {
                        running.committed()
                    }
                    n += 1
                }
                running.finish()
            }
            backups.start()
            let s = scrub()
            running.stop()
            running.waitFinished()
            committedDuringScrubs += running.count
            XCTAssertEqual(s.status, 0, "round \(round): scrub reported damage while \(running.count) backups committed: \(s.out.prefix(1500)) \(s.err)")
        }
        XCTAssertGreaterThan(committedDuringScrubs, 0, "no backup committed while a scrub ran: the test proved nothing")
        // And the repository is in fact clean, with every snapshot.
        let final = try CairnProcess.run(["scrub", "--read-data"], env: scrubEnv)
        XCTAssertEqual(final.status, 0, final.out + final.err)
    }
}

/// Shared flags between the test and its backup thread.
final class ScrubWatch: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false, finished = false, n = 0
    var done: Bool { lock.lock(); defer { lock.unlock() }; return stopped }
    var count: Int { lock.lock(); defer { lock.unlock() }; return n }
    func committed() { lock.lock(); n += 1; lock.unlock() }
    func stop() { lock.lock(); stopped = true; lock.unlock() }
    func finish() { lock.lock(); finished = true; lock.unlock() }
    func waitFinished() {
        while true {
            lock.lock(); let f = finished; lock.unlock()
            if f { return }
            usleep(10_000)
        }
    }
}

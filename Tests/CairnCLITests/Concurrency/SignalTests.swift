import CairnStorage
import CairnTestSupport
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Issue 14.7 (and 17's Ctrl-C item): SIGINT and SIGTERM end a command
/// cleanly, and what a SIGKILL leaves is removed by the next writer as soon
/// as it is provably stale.
final class SignalTests: XCTestCase {
    var dir: String!
    var env: [String: String] = [:]

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-signals-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        env = ["CAIRN_REPO": "\(dir!)/repo", "CAIRN_PASSWORD": "signals", "CAIRN_CACHE_DIR": "\(dir!)/cache"]
        XCTAssertEqual(try CairnProcess.run(["init"], env: env).status, 0)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    private func names(_ sub: String) -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: "\(dir!)/\(sub)")) ?? [] }

    /// A backup that has staged part of a pack and holds its lock, fed by a pipe left open.
    private func backupInFlight(_ name: String) throws -> (wait: () -> CairnProcess.Run, pid: Int32, feed: FileHandle) {
        let (wait, pid, feed) = try CairnProcess.startPipedBackup(env: env, name: name)
        try feed.write(contentsOf: Data(CairnProcess.bytes(24 << 20, seed: UInt64(pid))))
        for _ in 0..<1000 where names("repo/tmp").isEmpty || names("repo/locks").isEmpty { usleep(20_000) }
        XCTAssertFalse(names("repo/tmp").isEmpty, "the backup staged a pack")
        XCTAssertFalse(names("repo/locks").isEmpty, "the backup holds its lock")
        return (wait, pid, feed)
    }

    func testSIGINTAndSIGTERMEndABackupCleanly() throws {
        for (sig, code, label) in [(SIGINT, Int32(130), "SIGINT"), (SIGTERM, Int32(143), "SIGTERM")] {
            let b = try backupInFlight("interrupted-\(label)")
            kill(b.pid, sig)
            let r = b.wait()
            try? b.feed.close()
            XCTAssertEqual(r.status, code, r.err)
            XCTAssertTrue(r.err.contains("interrupted by \(label)"), r.err)
            XCTAssertTrue(r.err.contains("removed the repository lock"), r.err)
            XCTAssertTrue(r.err.contains("temporary file"), r.err)
            XCTAssertTrue(r.err.contains("kept"), "says what is kept: \(r.err)")
            XCTAssertEqual(names("repo/locks"), [], "\(label): no lock left")
            XCTAssertEqual(names("repo/tmp"), [], "\(label): no temporary file left")
        }
        // The repository is fine and the next backup runs at once (no stale lock to wait for).
        let next = try CairnProcess.run(["backup", "--stdin", "--name", "after"], env: env, stdin: "/etc/hostname")
        XCTAssertEqual(next.status, 0, next.err)
        XCTAssertFalse(next.err.contains("stale"), next.err)
        let scrub = try CairnProcess.run(["scrub"], env: env)
        XCTAssertEqual(scrub.status, 0, scrub.out + scrub.err)
    }

    func testSIGTERMEndsARestoreWithoutLeavingItsLock() throws {
        let big = "\(dir!)/big"
        XCTAssertTrue(FileManager.default.createFile(atPath: big, contents: Data(CairnProcess.bytes(48 << 20, seed: 9))))
        XCTAssertEqual(try CairnProcess.run(["backup", "--stdin", "--name", "big"], env: env, stdin: big).status, 0)
        let p = try TestProcess.start(try CairnProcess.cairnBinary(), ["restore", "latest", "--name", "big", "--target", "\(dir!)/out"],
                                      environment: ProcessInfo.processInfo.environment.merging(env) { $1 }, scratch: FileManager.default.temporaryDirectory)
        var sawLock = false
        for _ in 0..<20_000 where !sawLock && p.isRunning {
            sawLock = !names("repo/locks").isEmpty
            if !sawLock { usleep(500) }
        }
        p.kill(SIGTERM)
        let done = p.wait()
        let r = CairnProcess.Run(status: done.status, out: "", err: done.err)
        XCTAssertTrue(sawLock, "the restore takes the shared lock: \(r.status) \(r.err)")
        XCTAssertTrue(r.status == 143 || r.status == 0, "interrupted (or finished first): \(r.status) \(r.err)")
        if r.status == 143 { XCTAssertTrue(r.err.contains("removed the repository lock"), r.err) }
        XCTAssertEqual(names("repo/locks"), [])
    }

    func testLeftoversOfAKilledBackupAreRemovedByTheNextWriter() throws {
        let b = try backupInFlight("killed")
        kill(b.pid, SIGKILL)
        _ = b.wait()
        try? b.feed.close()
        let left = names("repo/tmp")
        XCTAssertFalse(left.isEmpty, "SIGKILL leaves the staged pack")
        XCTAssertTrue(left.allSatisfy { $0.contains(".\(b.pid).") }, "temporary names carry the writer's pid: \(left)")
        // A live writer's file (this test process) and a file in an unknown format must stay.
        let live = "\(dir!)/repo/tmp/" + TemporaryFileName.make(prefix: "pack")
        let foreign = "\(dir!)/repo/tmp/pack-1234"
        XCTAssertTrue(FileManager.default.createFile(atPath: live, contents: Data([1])))
        XCTAssertTrue(FileManager.default.createFile(atPath: foreign, contents: Data([2])))

        let next = try CairnProcess.run(["backup", "--stdin", "--name", "next"], env: env, stdin: "/etc/hostname")
        XCTAssertEqual(next.status, 0, next.err)
        XCTAssertTrue(next.err.contains("removed stale lock"), next.err)
        XCTAssertEqual(Set(names("repo/tmp")), Set([(live as NSString).lastPathComponent, "pack-1234"]),
                       "the killed writer's files are gone at once; a live writer's and unknown ones are kept (until they age)")
        XCTAssertEqual(names("repo/locks"), [])
    }
}

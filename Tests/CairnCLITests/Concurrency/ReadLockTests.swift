import CairnTestSupport
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Issue 20.1: a restore or a scrub during a prune that repacks the very
/// packs they read. Readers take the shared lock: whichever comes second
/// waits for the other, the restore is byte-identical and the scrub never
/// reports damage.
final class ReadLockTests: XCTestCase {
    var dir: String!
    var env: [String: String] = [:]

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-readlock-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        env = ["CAIRN_REPO": "\(dir!)/repo", "CAIRN_PASSWORD": "readers", "CAIRN_CACHE_DIR": "\(dir!)/cache"]
        XCTAssertEqual(try CairnProcess.run(["init", "--pack-size-mib", "4"], env: env).status, 0)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// ~3,000 small files, plus junk that shares their packs. Snapshot "both"
    /// holds files and junk, "files" only the files; forgetting "both" leaves
    /// the files' packs partly unused, so `prune --max-unused 0` repacks them.
    private func prepare(round: Int, filesPerDirectory: Int = 100) throws -> String {
        let src = "\(dir!)/src-\(round)"
        // Random bytes from the kernel: generating 12 MB in a debug build takes longer than the test.
        let random = try XCTUnwrap(FileHandle(forReadingAtPath: "/dev/urandom"))
        defer { try? random.close() }
        for d in 0..<30 {
            let sub = "\(src)/files/d\(d)"
            try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
            for f in 0..<filesPerDirectory {
                let n = d * 100 + f
                XCTAssertTrue(FileManager.default.createFile(atPath: "\(sub)/f\(n)", contents: random.readData(ofLength: 200 + (n * 37) % 1800)))
            }
            try FileManager.default.createDirectory(atPath: "\(src)/junk", withIntermediateDirectories: true)
            XCTAssertTrue(FileManager.default.createFile(atPath: "\(src)/junk/j\(d)", contents: random.readData(ofLength: 400_000)))
        }
        let both = try CairnProcess.run(["backup", "\(src)/files", "\(src)/junk", "--name", "both-\(round)"], env: env)
        XCTAssertEqual(both.status, 0, both.err)
        let files = try CairnProcess.run(["backup", "\(src)/files", "--name", "files-\(round)"], env: env)
        XCTAssertEqual(files.status, 0, files.err)
        let forget = try CairnProcess.run(["forget", "--name", "both-\(round)", "--allow-remove-all"], env: env)
        XCTAssertEqual(forget.status, 0, forget.err)
        return src
    }

    /// Starts the prune and returns once it holds its exclusive lock.
    private func startPrune() throws -> () -> CairnProcess.Run {
        let prune = try startWatchedPrune()
        return { prune.wait() }
    }

    private func startWatchedPrune() throws -> WatchedProcess {
        let prune = try WatchedProcess(["prune", "--max-unused", "0", "--json"], env: env)
        for _ in 0..<20_000 {
            if !((try? FileManager.default.contentsOfDirectory(atPath: "\(dir!)/repo/locks")) ?? []).isEmpty { break }
            usleep(500)
        }
        return prune
    }

    private func assertRepacked(_ p: CairnProcess.Run, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(p.status, 0, p.err, file: file, line: line)
        let json = try? JSONSerialization.jsonObject(with: Data(p.out.utf8)) as? [String: Any]
        XCTAssertGreaterThan(json?["packs_repacked"] as? Int ?? 0, 0, "the prune repacked the restored files' packs: \(p.out)", file: file, line: line)
    }

    func testRestoreDuringAPruneWaitsAndRestoresExactly() throws {
        for round in 0..<2 {
            // 3,000 files with the prune first; 300 for the other order (the same code path, less time).
            let src = try prepare(round: round, filesPerDirectory: round == 0 ? 100 : 10)
            let target = "\(dir!)/out-\(round)"
            let prune: () -> CairnProcess.Run
            let restore: () -> CairnProcess.Run
            if round == 0 {
                // The prune first: the restore waits for it, saying so. The prune is held
                // (SIGSTOP) while it holds its lock until the restore says it waits, so that
                // a loaded machine cannot let the prune finish before the restore asks.
                let watchedPrune = try startWatchedPrune()
                XCTAssertEqual(kill(watchedPrune.pid, SIGSTOP), 0)
                let watchedRestore = try WatchedProcess(["restore", "latest", "--name", "files-\(round)", "--target", target], env: env)
                let waited = watchedRestore.waitForError(containing: "waiting up to 1h for the repository lock", timeout: 300)
                XCTAssertEqual(kill(watchedPrune.pid, SIGCONT), 0)
                XCTAssertTrue(waited, "the restore did not wait for the prune's lock: \(watchedRestore.errorText)")
                prune = { watchedPrune.wait() }
                restore = { watchedRestore.wait() }
            } else {
                // The restore first: the prune waits for it.
                restore = try CairnProcess.start(["restore", "latest", "--name", "files-\(round)", "--target", target], env: env)
                usleep(200_000)
                prune = try CairnProcess.start(["prune", "--max-unused", "0", "--wait-lock", "5m", "--json"], env: env)
            }
            let r = restore(), p = prune()
            XCTAssertEqual(r.status, 0, "round \(round) restore: \(r.err)")
            assertRepacked(p)
            if round == 0 {
                XCTAssertTrue(r.err.contains("waiting up to 1h for the repository lock") && r.err.contains("prune (exclusive)"), r.err)
            }
            // Snapshots record the path as given (or, before issue 17.1, its last component).
            let restored = FileManager.default.fileExists(atPath: "\(target)\(src)/files") ? "\(target)\(src)/files" : "\(target)/files"
            let diff = try shell("diff -r '\(src)/files' '\(restored)' && echo same").out
            XCTAssertEqual(diff, "same\n", "round \(round): restored tree differs")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "\(dir!)/repo/locks"), [])
    }

    func testScrubDuringAPruneReportsNoDamage() throws {
        _ = try prepare(round: 0, filesPerDirectory: 30)
        let prune = try startPrune()
        let scrub = try CairnProcess.run(["scrub", "--read-data"], env: env)
        let p = prune()
        assertRepacked(p)
        XCTAssertEqual(scrub.status, 0, "a prune is not damage: \(scrub.out)\(scrub.err)")
        XCTAssertFalse(scrub.out.contains("damaged"), scrub.out)
        // --wait-lock 0: fails at once with a message naming the prune, never a damage report.
        _ = try prepare(round: 1, filesPerDirectory: 10)
        let prune2 = try startPrune()
        let quick = try CairnProcess.run(["scrub", "--wait-lock", "0"], env: env)
        let p2 = prune2()
        assertRepacked(p2)
        XCTAssertTrue(quick.status == 0 || (quick.status == 1 && quick.err.contains("locked by prune")), quick.err)
    }
}

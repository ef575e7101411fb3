import Foundation
import XCTest

/// Real `cairn` processes: a backup and a forget+prune started together,
/// round after round, on one repository. The backup dedups against exactly
/// the data the prune wants to delete; the locks must make one wait for the
/// other, so that every snapshot reported as saved restores exactly.
final class BackupPruneRaceTests: XCTestCase {
    func testBackupAndPruneStartedTogether() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-race-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var env = ["CAIRN_REPO": "\(dir)/repo", "CAIRN_PASSWORD": "race", "CAIRN_CACHE_DIR": "\(dir)/cache"]
        let initRun = try CairnProcess.run(["init"], env: env)
        XCTAssertEqual(initRun.status, 0, initRun.err)

        var saved: [(id: String, file: String)] = []
        var prunedSomething = 0
        for round in 0..<10 {
            // Odd rounds: the two processes use separate caches, as two machines would.
            let secondCache = round % 2 == 1 ? "\(dir)/cache-b" : "\(dir)/cache"
            let old = "\(dir)/old-\(round)", new = "\(dir)/new-\(round)"
            let shared = CairnProcess.bytes(400_000, seed: UInt64(round))
            XCTAssertTrue(FileManager.default.createFile(atPath: old, contents: Data(shared + CairnProcess.bytes(30_000, seed: 1000 + UInt64(round)))))
            XCTAssertTrue(FileManager.default.createFile(atPath: new, contents: Data(CairnProcess.bytes(20_000, seed: 2000 + UInt64(round)) + shared)))
            let o = try CairnProcess.run(["backup", "--stdin", "--name", "old", "--wait-lock", "60s"], env: env, stdin: old)
            XCTAssertEqual(o.status, 0, o.err)

            // Together: a backup that dedups against "old", and a prune that deletes "old".
            env["CAIRN_CACHE_DIR"] = secondCache
            let pruner = try CairnProcess.start(["forget", "--name", "old", "--allow-remove-all", "--prune", "--wait-lock", "60s", "--json"], env: env)
            env["CAIRN_CACHE_DIR"] = "\(dir)/cache"
            let backup = try CairnProcess.start(["backup", "--stdin", "--name", "new", "--wait-lock", "60s", "--json"], env: env, stdin: new)
            let b = backup(), p = pruner()
            XCTAssertEqual(p.status, 0, "round \(round) prune: \(p.err)")
            XCTAssertEqual(b.status, 0, "round \(round) backup: \(b.err)")
            if p.status == 0, let json = try? JSONSerialization.jsonObject(with: Data(p.out.utf8)) as? [String: Any],
               let prune = json["prune"] as? [String: Any], (prune["bytes_freed"] as? Int ?? 0) > 0 {
                prunedSomething += 1
            }
            if b.status == 0, let json = try? JSONSerialization.jsonObject(with: Data(b.out.utf8)) as? [String: Any],
               let id = json["snapshot_id"] as? String {
                saved.append((id, new))
            }
        }
        XCTAssertEqual(saved.count, 10)
        XCTAssertEqual(prunedSomething, 10, "every round's prune freed the old snapshot's unique data")

        // Every snapshot reported saved restores exactly, through a fresh cache.
        env["CAIRN_CACHE_DIR"] = "\(dir)/cache-fresh"
        for s in saved {
            let out = "\(dir)/restored"
            let r = try CairnProcess.run(["restore", s.id, "--target", out], env: env)
            XCTAssertEqual(r.status, 0, "snapshot \(s.id.prefix(8)): \(r.err)")
            let back = FileManager.default.contents(atPath: "\(out)/new")
            XCTAssertTrue(back == FileManager.default.contents(atPath: s.file), "snapshot \(s.id.prefix(8)) restored different bytes")
            try? FileManager.default.removeItem(atPath: out)
        }
        let locks = try CairnProcess.run(["locks", "--json"], env: env)
        XCTAssertEqual(locks.out.trimmingCharacters(in: .whitespacesAndNewlines), "[]", "no lock is left behind")
    }
}

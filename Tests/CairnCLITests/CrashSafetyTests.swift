import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// SIGKILL in the middle of a large backup, then: the repository reads clean,
/// the rerun reuses what was stored, restore is byte-identical, and the index
/// rebuilds.
final class CrashSafetyTests: CLITestCase {
    /// When to kill: after `seconds`, or as soon as `packs` data files exist, whichever comes first.
    struct Kill: CustomStringConvertible {
        var seconds: Double
        var packs: Int = .max
        /// Delete the cache before the rerun, so only the store's index checkpoints can help it.
        var freshCache: Bool
        var description: String { "kill at \(seconds) s\(packs == .max ? "" : " or \(packs) packs")\(freshCache ? ", fresh cache" : "")" }
    }

    static let inputSize = 200_000_000
    static let mib = 1 << 20

    func testSIGKILLMidBackupThenRerunRestoreAndRebuild() throws {
        let input = tmp.appendingPathComponent("input.bin")
        try TestData.writeURandom(Self.inputSize, to: input)
        // A debug build here backs up 200 MB in about 1.3 s, so the last instant is
        // also bounded by pack count to make sure it lands while packs are written.
        let kills = [
            Kill(seconds: 0.2, freshCache: false),
            Kill(seconds: 0.7, freshCache: true),
            Kill(seconds: 1.5, packs: 150, freshCache: false),
            Kill(seconds: 1.5, packs: 70, freshCache: true),
        ]
        var report: [String] = []
        for (i, k) in kills.enumerated() {
            report.append(try killAndRecover(k, round: i, input: input))
        }
        print("crash rounds:\n  " + report.joined(separator: "\n  "))
    }

    private func dataPacks(in repo: URL) -> [URL] {
        let data = repo.appendingPathComponent("data")
        var out: [URL] = []
        for sub in (try? FileManager.default.contentsOfDirectory(atPath: data.path)) ?? [] {
            for f in (try? FileManager.default.contentsOfDirectory(atPath: data.appendingPathComponent(sub).path)) ?? [] where f.count == 64 {
                out.append(data.appendingPathComponent(sub).appendingPathComponent(f))
            }
        }
        return out
    }

    private func killAndRecover(_ k: Kill, round: Int, input: URL) throws -> String {
        let repoDir = tmp.appendingPathComponent("repo-\(round)"), cacheDir = tmp.appendingPathComponent("cache-\(round)")
        cli.environment["CAIRN_REPO"] = repoDir.path
        cli.environment["CAIRN_CACHE_DIR"] = cacheDir.path
        defer {
            try? FileManager.default.removeItem(at: repoDir)
            try? FileManager.default.removeItem(at: cacheDir)
        }
        try ok(["init", "--pack-size-mib", "1"])
        let ctx = "round \(round) (\(k))"

        let running = try cli.start(["backup", "--stdin", "--name", "crash", "--json"], stdin: .file(input))
        let started = Date()
        while running.isRunning {
            let elapsed = Date().timeIntervalSince(started)
            if elapsed >= k.seconds { break }
            if k.packs != .max && dataPacks(in: repoDir).count >= k.packs { break }
            usleep(k.packs == .max ? 2_000 : 10_000)
        }
        let killedAfter = Date().timeIntervalSince(started)
        let wasRunning = running.isRunning
        running.kill(SIGKILL)
        let first = running.wait(timeout: 60)
        let packsAtKill = dataPacks(in: repoDir)
        let storedAtKill = packsAtKill.reduce(0) { $0 + Int(Posix.fileSize($1)) }
        let deltasAtKill = ((try? FileManager.default.contentsOfDirectory(atPath: repoDir.appendingPathComponent("index").path)) ?? []).count
        let completed = !first.signaled && first.status == 0
        if wasRunning {
            XCTAssertTrue(first.signaled || completed, "\(ctx): \(first.summary)")
        } else {
            XCTAssertEqual(first.status, 0, "\(ctx): finished before the kill but failed: \(first.summary)")
        }

        // The repository reads clean: no partial snapshot.
        let snaps = try snapshots()
        XCTAssertEqual(snaps.count, completed ? 1 : 0, "\(ctx): only complete snapshots are listed")

        if k.freshCache { try FileManager.default.removeItem(at: cacheDir) }
        let rerun = try backup(["--stdin", "--name", "crash"], stdin: .file(input))
        let newBytes = try rerun.int("new_bytes")
        XCTAssertEqual(try rerun.int("logical_bytes"), Self.inputSize, ctx)
        XCTAssertLessThanOrEqual(newBytes, Self.inputSize, ctx)
        // What the killed run stored is reused. Index checkpoints come every 16 packs
        // (each ≥ 1 MiB of incompressible data); the cache knows every pack it saw land.
        let checkpointed = deltasAtKill * 16 * (Self.mib - 64 << 10)
        XCTAssertLessThanOrEqual(newBytes, Self.inputSize - checkpointed, "\(ctx): \(deltasAtKill) index checkpoints were in the store")
        if !k.freshCache && !completed {
            let slack = 4 * Self.mib   // packs renamed into place but not yet recorded when the kill landed
            XCTAssertLessThanOrEqual(newBytes, Self.inputSize - storedAtKill + slack,
                                     "\(ctx): \(storedAtKill) bytes of packs were stored before the kill")
        }
        if storedAtKill >= 40 * Self.mib {
            XCTAssertLessThan(newBytes, Self.inputSize - 16 * Self.mib, "\(ctx): the rerun did not reuse what was stored")
        }

        // Restore is byte-identical.
        let out = tmp.appendingPathComponent("restored-\(round).bin")
        let r = try cli.run(["restore", "latest", "--name", "crash", "--stdout"], stdoutTo: out)
        XCTAssertEqual(r.status, 0, "\(ctx): \(r.summary)")
        XCTAssertEqual(Posix.fileSize(out), UInt64(Self.inputSize), ctx)
        XCTAssertTrue(try TestData.filesEqual(out, input), "\(ctx): restored bytes differ")
        try FileManager.default.removeItem(at: out)

        // The index rebuilds from the store alone, and the restore still matches.
        try FileManager.default.removeItem(at: cacheDir)
        let rebuilt = try ok(["index", "rebuild", "--json"]).jsonObject()
        XCTAssertEqual((rebuilt["damaged_packs"] as? [Any])?.count, 0, "\(ctx): \(rebuilt)")
        XCTAssertEqual(try rebuilt.int("snapshots"), completed ? 2 : 1, "\(ctx): \(rebuilt)")
        let r2 = try cli.run(["restore", "latest", "--name", "crash", "--stdout"], stdoutTo: out)
        XCTAssertEqual(r2.status, 0, "\(ctx): \(r2.summary)")
        XCTAssertTrue(try TestData.filesEqual(out, input), "\(ctx): restored bytes differ after index rebuild")
        try FileManager.default.removeItem(at: out)

        return String(format: "%@: killed after %.2f s%@, %d packs (%d MiB) and %d index deltas in the store; rerun new_bytes %d MiB of %d MiB; rebuild reindexed %d orphan packs",
                      k.description, killedAfter, wasRunning ? "" : " (had already finished)", packsAtKill.count, storedAtKill >> 20,
                      deltasAtKill, newBytes >> 20, Self.inputSize >> 20, (try? rebuilt.int("reindexed_packs")) ?? -1)
    }
}

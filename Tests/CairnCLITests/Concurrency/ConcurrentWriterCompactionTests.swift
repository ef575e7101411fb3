import Foundation
import XCTest

/// Real `cairn` processes writing one repository at once, as a platform host
/// does: three WAL archives (`wal-push`, one process per segment, as three
/// clusters' archive_commands run it) and a backup loop, all started
/// together. Every one of these commands merges small metadata objects after
/// its commit (format 2's `MetadataCompactor`), so merges run while the
/// others commit and merge too. Nothing reported archived or saved may be
/// lost: afterwards, through a new cache, every segment fetches and every
/// snapshot restores byte-identical, the snapshot list holds exactly what was
/// committed, and the store holds fewer snapshot objects than commits (the
/// merges happened).
final class ConcurrentWriterCompactionTests: XCTestCase {
    func testWALPushesBackupsAndMergesAtOnceLoseNothing() throws {
        try writersAtOnce(sharedCache: false)
    }

    /// The same writers on one host sharing one cache, empty when they start (one cache per host
    /// user: PostgreSQL's archive_command processes and the backups). They change its rows under
    /// each other; still every pack a commit uses is named by an index object in the store (the
    /// final scrub fails on a pack named by none: issue 16's long haul left 94).
    func testWritersSharingOneEmptyCacheLoseNothing() throws {
        try writersAtOnce(sharedCache: true)
    }

    private func writersAtOnce(sharedCache: Bool) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-writers-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let repo = "\(dir)/repo"
        var env = ["CAIRN_REPO": repo, "CAIRN_PASSWORD": "writers", "CAIRN_CACHE_DIR": "\(dir)/cache"]
        let initRun = try CairnProcess.run(["init"], env: env)
        XCTAssertEqual(initRun.status, 0, initRun.err)

        let archives = ["pg-a", "pg-b", "pg-c"], segmentsEach = 6, backups = 4
        func segmentName(_ i: Int) -> String { String(format: "00000001000000000000%04X", i + 1) }
        func segmentFile(_ archive: String, _ i: Int) -> String { "\(dir)/\(archive)-\(segmentName(i))" }
        for (a, archive) in archives.enumerated() {
            for i in 0..<segmentsEach {
                // Half of each segment repeats across archives (dedup across writers), half is its own.
                let bytes = CairnProcess.bytes(64 << 10, seed: UInt64(i)) + CairnProcess.bytes(64 << 10, seed: UInt64(1000 * (a + 1) + i))
                XCTAssertTrue(FileManager.default.createFile(atPath: segmentFile(archive, i), contents: Data(bytes)))
            }
        }
        for b in 0..<backups {
            XCTAssertTrue(FileManager.default.createFile(atPath: "\(dir)/dump-\(b)",
                                                         contents: Data(CairnProcess.bytes(200_000, seed: 7) + CairnProcess.bytes(30_000, seed: UInt64(9000 + b)))))
        }

        // Each writer is a shell loop of cairn processes (one at a time per writer, all writers at once);
        // each host its own cache, as separate machines and users would have, or all one cache.
        let cairn = try CairnProcess.cairnBinary()
        var writers: [(name: String, process: Process, log: String)] = []
        func startWriter(_ name: String, _ script: String) throws {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", script]
            let log = "\(dir)/\(name).log"
            XCTAssertTrue(FileManager.default.createFile(atPath: log, contents: nil))
            p.standardOutput = FileHandle(forWritingAtPath: log)
            p.standardError = p.standardOutput
            let cache = sharedCache ? "\(dir)/cache-shared" : "\(dir)/cache-\(name)"
            p.environment = ProcessInfo.processInfo.environment.merging(env.merging(["CAIRN_CACHE_DIR": cache]) { $1 }) { $1 }
            try p.run()
            writers.append((name, p, log))
        }
        for archive in archives {
            let pushes = (0..<segmentsEach).map {
                "'\(cairn)' wal-push --wal-name \(archive) '\(segmentFile(archive, $0))' \(segmentName($0)) || exit 1"
            }
            try startWriter(archive, pushes.joined(separator: "\n"))
        }
        let saves = (0..<backups).map {
            "'\(cairn)' backup --stdin --name dump --wait-lock 120s --json < '\(dir)/dump-\($0)' > '\(dir)/backup-\($0).json' || exit 1"
        }
        try startWriter("backup", saves.joined(separator: "\n"))
        for w in writers {
            w.process.waitUntilExit()
            let log = (try? String(contentsOfFile: w.log, encoding: .utf8)) ?? ""
            XCTAssertEqual(w.process.terminationStatus, 0, "\(w.name) failed: \(log)")
        }

        // A new machine: an empty cache.
        env["CAIRN_CACHE_DIR"] = "\(dir)/cache-fresh"
        for archive in archives {
            for i in 0..<segmentsEach {
                let out = "\(dir)/fetched"
                let f = try CairnProcess.run(["wal-fetch", "--wal-name", archive, "--prefetch", "0", segmentName(i), out], env: env)
                XCTAssertEqual(f.status, 0, "\(archive) \(segmentName(i)): \(f.err)")
                XCTAssertTrue(FileManager.default.contents(atPath: out) == FileManager.default.contents(atPath: segmentFile(archive, i)),
                              "\(archive) \(segmentName(i)) fetched different bytes")
                try? FileManager.default.removeItem(atPath: out)
            }
        }
        var savedIDs: [String] = []
        for b in 0..<backups {
            let data = FileManager.default.contents(atPath: "\(dir)/backup-\(b).json") ?? Data()
            guard let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let id = json["snapshot_id"] as? String else {
                XCTFail("backup \(b) printed no snapshot id: \(String(decoding: data, as: UTF8.self))"); continue
            }
            savedIDs.append(id)
            // Through a shell: the restored bytes are binary, the test's pipes decode text.
            let restored = "\(dir)/restored-\(b)"
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", "'\(cairn)' restore \(id) --stdout > '\(restored)'"]
            p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
            try p.run()
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, "restore of backup \(b) failed")
            XCTAssertTrue(FileManager.default.contents(atPath: restored) == FileManager.default.contents(atPath: "\(dir)/dump-\(b)"),
                          "backup \(b) restored different bytes")
        }

        let list = try CairnProcess.run(["snapshots", "--json"], env: env)
        XCTAssertEqual(list.status, 0, list.err)
        let snapshots = (try? JSONSerialization.jsonObject(with: Data(list.out.utf8)) as? [[String: Any]]) ?? []
        var perName: [String: Int] = [:]
        for s in snapshots { perName[s["name"] as? String ?? "?", default: 0] += 1 }
        XCTAssertEqual(perName, ["pg-a": segmentsEach, "pg-b": segmentsEach, "pg-c": segmentsEach, "dump": backups],
                       "every commit listed exactly once")
        XCTAssertEqual(Set(snapshots.compactMap { $0["id"] as? String }).isSuperset(of: savedIDs), true)

        let commits = archives.count * segmentsEach + backups
        let snapshotObjects = try FileManager.default.contentsOfDirectory(atPath: "\(repo)/snapshots").count
        XCTAssertLessThan(snapshotObjects, commits / 2, "the writers merged snapshot objects while they ran (\(snapshotObjects) objects for \(commits) commits)")

        let scrub = try CairnProcess.run(["scrub", "--read-data"], env: env)
        XCTAssertEqual(scrub.status, 0, "scrub: \(scrub.out) \(scrub.err)")
        let locks = try CairnProcess.run(["locks", "--json"], env: env)
        XCTAssertEqual(locks.out.trimmingCharacters(in: .whitespacesAndNewlines), "[]", "no lock is left behind")
    }
}

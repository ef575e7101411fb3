import Foundation
import XCTest

/// Real `cairn` processes: a backup and a forget+prune started together,
/// round after round, on one repository. The backup dedups against exactly
/// the data the prune wants to delete; the locks must make one wait for the
/// other, so that every snapshot reported as saved restores exactly.
final class BackupPruneRaceTests: XCTestCase {
    struct Run { var status: Int32; var out: String; var err: String }

    static func cairnBinary() throws -> String {
        if let e = ProcessInfo.processInfo.environment["CAIRN_BINARY"], !e.isEmpty { return e }
        var candidates: [URL] = []
        for arg in ProcessInfo.processInfo.arguments {
            var u = URL(fileURLWithPath: arg).standardizedFileURL
            for _ in 0..<4 {
                if u.pathExtension == "xctest" { candidates.append(u.deletingLastPathComponent()); break }
                u = u.deletingLastPathComponent()
            }
            candidates.append(URL(fileURLWithPath: arg).deletingLastPathComponent())
        }
        for b in Bundle.allBundles where b.bundlePath.hasSuffix(".xctest") { candidates.append(b.bundleURL.deletingLastPathComponent()) }
        for d in candidates where FileManager.default.isExecutableFile(atPath: d.appendingPathComponent("cairn").path) {
            return d.appendingPathComponent("cairn").path
        }
        throw XCTSkip("cannot find the cairn executable next to the test bundle; set CAIRN_BINARY")
    }

    /// Starts `cairn args` with `stdin` (a file) and the environment; returns a waiter.
    func start(_ args: [String], env: [String: String], stdin: String? = nil) throws -> () -> Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try Self.cairnBinary())
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        p.standardInput = stdin.map { FileHandle(forReadingAtPath: $0)! } ?? FileHandle.nullDevice
        try p.run()
        return {
            let o = out.fileHandleForReading.readDataToEndOfFile()
            let e = err.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return Run(status: p.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: e, as: UTF8.self))
        }
    }

    func run(_ args: [String], env: [String: String], stdin: String? = nil) throws -> Run { try start(args, env: env, stdin: stdin)() }

    /// SplitMix64 bytes.
    func bytes(_ n: Int, seed: UInt64) -> [UInt8] {
        var s = seed, out: [UInt8] = []
        out.reserveCapacity(n + 8)
        while out.count < n {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9; z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB; z ^= z >> 31
            withUnsafeBytes(of: z.littleEndian) { out.append(contentsOf: $0) }
        }
        return Array(out.prefix(n))
    }

    func testBackupAndPruneStartedTogether() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-race-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var env = ["CAIRN_REPO": "\(dir)/repo", "CAIRN_PASSWORD": "race", "CAIRN_CACHE_DIR": "\(dir)/cache"]
        let initRun = try run(["init"], env: env)
        XCTAssertEqual(initRun.status, 0, initRun.err)

        var saved: [(id: String, file: String)] = []
        var prunedSomething = 0
        for round in 0..<10 {
            // Odd rounds: the two processes use separate caches, as two machines would.
            let secondCache = round % 2 == 1 ? "\(dir)/cache-b" : "\(dir)/cache"
            let old = "\(dir)/old-\(round)", new = "\(dir)/new-\(round)"
            let shared = bytes(400_000, seed: UInt64(round))
            FileManager.default.createFile(atPath: old, contents: Data(shared + bytes(30_000, seed: 1000 + UInt64(round))))
            FileManager.default.createFile(atPath: new, contents: Data(bytes(20_000, seed: 2000 + UInt64(round)) + shared))
            let o = try run(["backup", "--stdin", "--name", "old", "--wait-lock", "60s"], env: env, stdin: old)
            XCTAssertEqual(o.status, 0, o.err)

            // Together: a backup that dedups against "old", and a prune that deletes "old".
            env["CAIRN_CACHE_DIR"] = secondCache
            let pruner = try start(["forget", "--name", "old", "--allow-remove-all", "--prune", "--wait-lock", "60s", "--json"], env: env)
            env["CAIRN_CACHE_DIR"] = "\(dir)/cache"
            let backup = try start(["backup", "--stdin", "--name", "new", "--wait-lock", "60s", "--json"], env: env, stdin: new)
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
            let r = try run(["restore", s.id, "--target", out], env: env)
            XCTAssertEqual(r.status, 0, "snapshot \(s.id.prefix(8)): \(r.err)")
            let back = FileManager.default.contents(atPath: "\(out)/new")
            XCTAssertTrue(back == FileManager.default.contents(atPath: s.file), "snapshot \(s.id.prefix(8)) restored different bytes")
            try? FileManager.default.removeItem(atPath: out)
        }
        let locks = try run(["locks", "--json"], env: env)
        XCTAssertEqual(locks.out.trimmingCharacters(in: .whitespacesAndNewlines), "[]", "no lock is left behind")
    }
}

import CairnS3
import CairnStorage
import CairnTestSupport
import Foundation
import XCTest

/// Issue 18's attack, against moto (moto 5 enforces Object Lock: deleting a
/// locked version answers AccessDenied; it does not enforce compliance mode's
/// "never shortened", so the attacker here does not try that). A week of the
/// platform's backups goes to a locked, versioned cloud repository; then, with the
/// backup host's own credentials and passphrase, everything an attacker would do;
/// then `cairn recover --as-of` and every snapshot made before that time restores
/// byte-identical, and the recovered repository works like any other.
final class AttackTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "cairn-attack-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// The platform's data on day `day`: a PostgreSQL dump that changes a little each day, a Redis
    /// RDB file, a blockchain node's data directory that grows, and a WAL segment.
    private func platformDay(_ day: Int, src: String, dump: inout [UInt8]) throws -> [String] {
        let fm = FileManager.default
        try fm.createDirectory(atPath: "\(src)/node/chaindata", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: "\(dir)/pg_wal", withIntermediateDirectories: true)
        for i in stride(from: day * 4099, to: dump.count, by: 50_000) { dump[i] = UInt8(truncatingIfNeeded: day &+ i) }
        try Data(dump).write(to: URL(fileURLWithPath: "\(src)/app.dump"))
        try Data(StoreConformance.bytes(160 << 10, seed: UInt64(100 + day))).write(to: URL(fileURLWithPath: "\(src)/dump.rdb"))
        try Data(StoreConformance.bytes(96 << 10, seed: UInt64(300 + day))).write(to: URL(fileURLWithPath: "\(src)/node/chaindata/\(String(format: "%06d", day)).ldb"))
        try Data("MANIFEST-\(day)\n".utf8).write(to: URL(fileURLWithPath: "\(src)/node/CURRENT"))
        var segments: [String] = []
        for n in 0..<1 {
            let name = String(format: "0000000100000000%08X", day + n)
            try Data(StoreConformance.bytes(64 << 10, seed: UInt64(200 + day + n))).write(to: URL(fileURLWithPath: "\(dir)/pg_wal/\(name)"))
            segments.append(name)
        }
        return segments
    }

    /// A cloud repository under Object Lock on moto, `dayCount` days of the platform's backups in
    /// it (each day's tree tagged dayN; with `pushingWAL`, each day's WAL segment pushed first), and
    /// TIME: a moment after the last of them, with a second on either side.
    private struct LockedPlatform {
        let cairn: S3CairnRunner
        let endpoint: String
        let repo: String
        let src: String
        /// Each day's tree as backed up, and the WAL segments pushed (name → bytes).
        let days: [[String: Data]]
        let wal: [String: Data]
        let asOf: String
        let client: S3Client
    }

    private func lockedPlatform(_ label: String, mode: String, lockDays: Int, dayCount: Int, dumpBytes: Int, seed: UInt64,
                                pushingWAL: Bool) throws -> LockedPlatform {
        let moto = try MotoServer.start()
        let cairn = S3CairnRunner(cacheDir: "\(dir)/cache")
        let bucket = S3TestSupport.bucketName(label)
        let repo = "s3:\(moto.endpoint)/\(bucket)/cloud"
        try cairn.ok(["init", "--repo", repo, "--object-lock", mode, "--lock-days", String(lockDays)])
        let src = "\(dir)/platform"
        var dump = StoreConformance.bytes(dumpBytes, seed: seed)
        var days: [[String: Data]] = []
        var wal: [String: Data] = [:]
        for day in 0..<dayCount {
            for name in try platformDay(day, src: src, dump: &dump) where pushingWAL {
                try cairn.ok(["wal-push", "--repo", repo, "\(dir)/pg_wal/\(name)"])
                wal[name] = FileManager.default.contents(atPath: "\(dir)/pg_wal/\(name)")
            }
            try cairn.ok(["backup", "--repo", repo, src, "--name", "platform", "--tag", "day\(day)"])
            days.append(try TestTree.snapshot(src))
        }
        usleep(1_100_000)
        let asOf = ISO8601DateFormatter().string(from: Date())
        usleep(1_100_000)
        let client = try S3TestSupport.client(endpoint: moto.endpoint, bucket: bucket, prefix: "cloud")
        return LockedPlatform(cairn: cairn, endpoint: moto.endpoint, repo: repo, src: src, days: days, wal: wal,
                              asOf: asOf, client: client)
    }

    func testRecoveryAfterTheHostWasCompromised() async throws {
        // A week of backups: the files daily, the WAL as PostgreSQL's archive_command pushes it.
        let platform = try lockedPlatform("attack", mode: "compliance", lockDays: 365, dayCount: 7, dumpBytes: 400 << 10, seed: 1,
                                          pushingWAL: true)
        let (cairn, repo, src, days, wal, asOf, client) = (platform.cairn, platform.repo, platform.src, platform.days, platform.wal,
                                                            platform.asOf, platform.client)
        let before = try snapshotIDs(cairn, repo)
        XCTAssertEqual(before.count, 7 + 7)
        // A backup after TIME: not part of the repository as it was then.
        try Data("after the moment".utf8).write(to: URL(fileURLWithPath: "\(src)/late.txt"))
        try cairn.ok(["backup", "--repo", repo, src, "--name", "platform", "--tag", "late"])

        // The attack, with the host's credentials and passphrase: the CLI's own deletes first.
        _ = try cairn.run(["forget", "--repo", repo, "--keep-last", "0"])
        _ = try cairn.run(["forget", "--repo", repo, "--allow-remove-all", "--name", "platform", "--prune"])
        _ = try cairn.run(["forget", "--repo", repo, "--allow-remove-all", "--name", "pg-wal", "--prune"])
        _ = try cairn.run(["prune", "--repo", repo, "--max-unused", "0"])
        // Then the bucket directly: every version, every current object, garbage over every key.
        var refused = 0
        var destroyed: [String] = []
        for v in try await client.listObjectVersions(prefix: "cloud/") where !v.isDeleteMarker {
            do { try await client.deleteObjectVersion(v.key, version: v.versionID); destroyed.append(v.key) } catch let e as S3Error {
                XCTAssertTrue("\(e)".contains("AccessDenied"), "\(e)")
                refused += 1
            }
        }
        XCTAssertGreaterThan(refused, 30, "the locked versions refuse deletion")
        XCTAssertEqual(destroyed.filter { !$0.contains("/locks/") }, [], "only lock objects may be destroyable")
        for (key, _) in try await client.listObjects(prefix: "cloud/") { try await client.deleteObject(key) }
        let garbage = Array("ransom: pay 10 BTC".utf8)
        for prefix in ["cloud/config", "cloud/keys/", "cloud/snapshots/", "cloud/index/", "cloud/data/"] {
            for key in Set(try await client.listObjectVersions(prefix: prefix).map(\.key)) {
                try await client.putObject(key, garbage)
            }
        }
        try await client.putObject("cloud/keys/\(String(repeating: "0", count: 64))", garbage)
        let broken = try cairn.run(["snapshots", "--repo", repo])
        XCTAssertNotEqual(broken.status, 0, "the attack left the repository readable?\n\(broken.out)")

        // Recovery: one command, then every snapshot made before TIME restores byte-identical.
        let recovered = "\(dir)/recovered"
        let r = try cairn.ok(["recover", "--repo", repo, "--as-of", asOf, "--to", recovered, "--json"])
        let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        let pairs = try XCTUnwrap(doc["snapshots"] as? [[String: String]], r.out)
        XCTAssertEqual(Set(pairs.compactMap { $0["source"] }), before, "recover brings back exactly the snapshots that existed at TIME")
        XCTAssertEqual(doc["clean"] as? Bool, true, r.out)
        let listed = try cairn.ok(["snapshots", "--repo", recovered, "--json"])
        let snaps = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(listed.out.utf8)) as? [[String: Any]])
        XCTAssertEqual(snaps.count, 14)
        XCTAssertFalse(snaps.contains { ($0["tags"] as? [String])?.contains("late") == true }, "a snapshot made after TIME came back")
        for day in 0..<7 {
            let snap = try XCTUnwrap(snaps.first { ($0["tags"] as? [String])?.contains("day\(day)") == true }, "day \(day) is missing")
            let id = try XCTUnwrap(snap["id"] as? String)
            try cairn.ok(["restore", id, "--repo", recovered, "--target", "\(dir)/restore-\(day)"])
            XCTAssertEqual(try TestTree.snapshot("\(dir)/restore-\(day)\(src)"), days[day], "day \(day) differs")
        }
        for (name, bytes) in wal {
            try cairn.ok(["wal-fetch", "--repo", recovered, name, "\(dir)/fetched"])
            XCTAssertEqual(FileManager.default.contents(atPath: "\(dir)/fetched"), bytes, "WAL segment \(name) differs")
        }
        // It works like any other repository: scrub reads every byte, a new backup and its restore.
        try cairn.ok(["scrub", "--repo", recovered, "--read-data"])
        try cairn.ok(["backup", "--repo", recovered, src, "--name", "platform", "--tag", "after-recovery"])
        try cairn.ok(["restore", "latest", "--repo", recovered, "--target", "\(dir)/restore-new"])
        XCTAssertEqual(try TestTree.snapshot("\(dir)/restore-new\(src)"), try TestTree.snapshot(src))
    }

    /// `recover` into an S3 repository (locked again), which then takes backups like any other;
    /// the attacked repository is only read; bad input is refused with one line.
    func testRecoverIntoALockedS3RepositoryAndRefusals() async throws {
        let platform = try lockedPlatform("attack2", mode: "governance", lockDays: 30, dayCount: 2, dumpBytes: 200 << 10, seed: 9,
                                          pushingWAL: false)
        let (cairn, repo, src, days, asOf, client) = (platform.cairn, platform.repo, platform.src, platform.days, platform.asOf, platform.client)
        let garbage = Array("garbage".utf8)
        try await client.putObject("cloud/config", garbage)
        for (key, _) in try await client.listObjects(prefix: "cloud/snapshots/") { try await client.deleteObject(key) }
        let versionsBefore = try await client.listObjectVersions(prefix: "cloud/").count

        // Refusals: a one-line error (usage errors add the --help hint), exit 2 for usage, 1 otherwise, nothing written.
        let badTime = try cairn.run(["recover", "--repo", repo, "--as-of", "yesterday", "--to", "\(dir)/x"])
        XCTAssertEqual(badTime.status, 2, badTime.err)
        XCTAssertTrue(badTime.err.split(separator: "\n").first?.contains("RFC 3339") == true, badTime.err)
        let tooEarly = try cairn.run(["recover", "--repo", repo, "--as-of", "2001-01-01T00:00:00Z", "--to", "\(dir)/x"])
        XCTAssertEqual(tooEarly.status, 1, tooEarly.err)
        XCTAssertTrue(tooEarly.err.contains("no config object"), tooEarly.err)
        XCTAssertEqual(tooEarly.err.split(separator: "\n").count, 1, tooEarly.err)
        try cairn.ok(["init", "--repo", "\(dir)/occupied"])
        let occupied = try cairn.run(["recover", "--repo", repo, "--as-of", asOf, "--to", "\(dir)/occupied"])
        XCTAssertEqual(occupied.status, 1, occupied.err)
        XCTAssertTrue(occupied.err.contains("already holds a repository"), occupied.err)
        let local = try cairn.run(["recover", "--repo", "\(dir)/occupied", "--as-of", asOf, "--to", "\(dir)/x"])
        XCTAssertEqual(local.status, 2, local.err)
        XCTAssertTrue(local.err.contains("not an s3: repository"), local.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir)/x"))

        // Read-only --as-of: the attacked repository as it was, without recovering it first.
        XCTAssertNotEqual(try cairn.run(["snapshots", "--repo", repo]).status, 0, "the garbage config should make the live repository unreadable")
        let pastList = try cairn.ok(["snapshots", "--repo", repo, "--as-of", asOf, "--json"])
        let past = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(pastList.out.utf8)) as? [[String: Any]])
        XCTAssertEqual(past.count, 2, pastList.out)
        try cairn.ok(["restore", "latest", "--tag", "day0", "--repo", repo, "--as-of", asOf, "--target", "\(dir)/asof"])
        XCTAssertEqual(try TestTree.snapshot("\(dir)/asof\(src)"), days[0])
        try cairn.ok(["scrub", "--repo", repo, "--as-of", asOf, "--read-data"])
        let same = try cairn.run(["recover", "--repo", repo, "--as-of", asOf, "--to", repo])
        XCTAssertEqual(same.status, 2, same.err)
        XCTAssertTrue(same.err.contains("attacked repository itself"), same.err)

        let target = "s3:\(platform.endpoint)/\(S3TestSupport.bucketName("recovered"))/new"
        let r = try cairn.ok(["recover", "--repo", repo, "--as-of", asOf, "--to", target,
                              "--object-lock", "compliance", "--lock-days", "7"])
        XCTAssertTrue(r.out.contains("2 snapshot(s)"), r.out)
        let versionsAfter = try await client.listObjectVersions(prefix: "cloud/").count
        XCTAssertEqual(versionsAfter, versionsBefore, "recover wrote into the attacked repository")
        for day in 0..<2 {
            try cairn.ok(["restore", "--repo", target, "--tag", "day\(day)", "latest", "--target", "\(dir)/r\(day)"])
            XCTAssertEqual(try TestTree.snapshot("\(dir)/r\(day)\(src)"), days[day])
        }
        try cairn.ok(["backup", "--repo", target, src, "--name", "platform", "--tag", "new"])
        let status = try cairn.ok(["lock", "status", "--repo", target, "--json"])
        XCTAssertTrue(status.out.contains("COMPLIANCE") || status.out.contains("compliance"), status.out)
        try cairn.ok(["scrub", "--repo", target])
    }

    private func snapshotIDs(_ cairn: S3CairnRunner, _ repo: String) throws -> Set<String> {
        let listed = try cairn.ok(["snapshots", "--repo", repo, "--json"])
        let snaps = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(listed.out.utf8)) as? [[String: Any]])
        return Set(snaps.compactMap { $0["id"] as? String })
    }
}

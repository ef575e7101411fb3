import CairnS3
import CairnStorage
import CairnTestSupport
import Foundation
import XCTest

/// S3 Object Lock through the real binary against moto (moto 5 enforces it:
/// deleting a locked version answers AccessDenied; it does not refuse
/// shortening a compliance retention, which AWS does).
final class ObjectLockTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "cairn-objlock-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// init --object-lock creates a locked, versioned bucket; every object but the lock objects is
    /// written with the mode and a retain-until date `--lock-days` ahead, and S3 refuses to delete it.
    func testEveryObjectIsWrittenLocked() async throws {
        let moto = try MotoServer.start()
        let cairn = S3CairnRunner(cacheDir: "\(dir)/cache")
        let bucket = S3TestSupport.bucketName("lockwrite")
        let repo = "s3:\(moto.endpoint)/\(bucket)/cloud"
        try TestTree.make(at: "\(dir)/src", files: 8, bigMiB: 3)
        let before = Int64(Date().timeIntervalSince1970)
        let created = try cairn.ok(["init", "--repo", repo, "--object-lock", "compliance", "--lock-days", "30", "--json"])
        XCTAssertTrue(created.out.contains("\"mode\":\"compliance\""), created.out)
        try cairn.ok(["backup", "--repo", repo, "\(dir)/src", "--name", "tree"])
        try cairn.ok(["key", "add", "--repo", repo, "--new-password-file", try passFile("second")])
        let after = Int64(Date().timeIntervalSince1970)

        let client = try S3TestSupport.client(endpoint: moto.endpoint, bucket: bucket, prefix: "cloud")
        let protection = try await client.bucketProtection()
        XCTAssertEqual(protection, BucketProtection(versioning: "Enabled", objectLockEnabled: true))
        let keys = try await client.listObjects(prefix: "cloud/").map(\.key)
        var namespaces = Set<String>()
        for key in keys {
            let (exists, retention) = try await client.objectRetention(key)
            XCTAssertTrue(exists, key)
            XCTAssertFalse(key.contains("/locks/"), "a lock object outlived its command: \(key)")
            guard let retention else { XCTFail("\(key) has no retention"); continue }
            XCTAssertEqual(retention.mode, .compliance, key)
            XCTAssertGreaterThanOrEqual(retention.retainUntil, before + 30 * 86_400, key)
            XCTAssertLessThanOrEqual(retention.retainUntil, after + 30 * 86_400, key)
            namespaces.insert(String(key.split(separator: "/")[1]))
        }
        XCTAssertEqual(namespaces, ["config", "keys", "data", "index", "snapshots"])
        // S3 (moto) refuses to delete a locked version: the data is out of reach of these credentials.
        let versions = try await client.listObjectVersions(prefix: "cloud/")
        let snapshot = try XCTUnwrap(versions.first { $0.key.contains("/snapshots/") })
        do {
            try await client.deleteObjectVersion(snapshot.key, version: snapshot.versionID)
            XCTFail("a locked version was deleted")
        } catch let e as S3Error {
            XCTAssertTrue("\(e)".contains("AccessDenied"), "\(e)")
        }
        // Lock objects were deleted (only delete markers and the unlocked versions remain for them).
        for v in versions where v.key.contains("/locks/") && !v.isDeleteMarker {
            try await client.deleteObjectVersion(v.key, version: v.versionID)
        }
        // The repository works as any other.
        try cairn.ok(["restore", "latest", "--repo", repo, "--target", "\(dir)/out"])
        // Snapshots record full paths: restored under --target at their full path.
        XCTAssertEqual(try TestTree.snapshot("\(dir)/out\(dir)/src"), try TestTree.snapshot("\(dir)/src"))
    }

    /// What cannot hold a locked repository is refused before anything is written.
    func testObjectLockNeedsALockedBucketAndAnS3Repository() async throws {
        let moto = try MotoServer.start()
        let cairn = S3CairnRunner(cacheDir: "\(dir)/cache")
        // A bucket without Object Lock: refused, nothing written.
        let bucket = S3TestSupport.bucketName("nolock")
        let client = try S3TestSupport.client(endpoint: moto.endpoint, bucket: bucket, prefix: "r")
        try await client.createBucket()
        let plain = try cairn.run(["init", "--repo", "s3:\(moto.endpoint)/\(bucket)/r", "--object-lock", "governance", "--lock-days", "7"])
        XCTAssertEqual(plain.status, 1, plain.err)
        XCTAssertTrue(plain.err.contains("does not have Object Lock enabled"), plain.err)
        XCTAssertEqual(plain.err.split(separator: "\n").count, 1, plain.err)
        let listed = try await client.listObjects(prefix: "r/")
        XCTAssertTrue(listed.isEmpty, "\(listed)")
        // A local repository cannot lock: usage error.
        let local = try cairn.run(["init", "--repo", "\(dir)/local", "--object-lock", "compliance", "--lock-days", "7"])
        XCTAssertEqual(local.status, 2, local.err)
        XCTAssertTrue(local.err.contains("needs an s3: repository"), local.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir)/local/config"))
        // Bad option combinations are usage errors.
        for args in [["--lock-days", "7"], ["--object-lock", "compliance"], ["--object-lock", "forever", "--lock-days", "7"],
                     ["--object-lock", "governance", "--lock-days", "0"], ["--object-lock", "governance", "--lock-days", "99999999"]] {
            let r = try cairn.run(["init", "--repo", "s3:\(moto.endpoint)/\(S3TestSupport.bucketName("bad"))/r"] + args)
            XCTAssertEqual(r.status, 2, "\(args): \(r.err)")
        }
        // A locked repository opened through a store that cannot lock refuses to write: a copy of
        // its objects on disk (as 'aws s3 sync' would make) opens for reading only... it does not open at all.
        let bucket2 = S3TestSupport.bucketName("lockcopy")
        try cairn.ok(["init", "--repo", "s3:\(moto.endpoint)/\(bucket2)/r", "--object-lock", "governance", "--lock-days", "2"])
        let c2 = try S3TestSupport.client(endpoint: moto.endpoint, bucket: bucket2, prefix: "r")
        for (key, _) in try await c2.listObjects(prefix: "r/") {
            let path = "\(dir)/mirror/" + key.dropFirst(2)
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(try await c2.getObject(key) ?? []).write(to: URL(fileURLWithPath: path))
        }
        let mirrored = try cairn.run(["backup", "--repo", "\(dir)/mirror", "\(dir)"])
        XCTAssertEqual(mirrored.status, 1, mirrored.err)
        XCTAssertTrue(mirrored.err.contains("requires S3 Object Lock"), mirrored.err)
    }

    /// Multipart uploads carry the retention too (set when the upload is created).
    func testMultipartUploadsAreLocked() async throws {
        let moto = try MotoServer.start()
        let bucket = S3TestSupport.bucketName("lockparts")
        let client = try S3TestSupport.client(endpoint: moto.endpoint, bucket: bucket, prefix: "r")
        try await client.createBucketWithObjectLock()
        let store = S3Store(client: client, options: S3TestSupport.smallParts)
        store.setPolicy(ObjectLockPolicy(mode: .governance, days: 3))
        let big = StoreConformance.bytes(7 << 20, seed: 9)
        let pack = ObjectKey(.data, String(repeating: "ab", count: 32))
        try await store.put(pack, big, coldEligible: true)
        try await store.put(ObjectKey(.locks, "l1"), [1, 2, 3])
        let retention = try await store.retention(of: pack)
        XCTAssertEqual(retention?.mode, .governance)
        XCTAssertGreaterThan(retention?.retainUntil ?? 0, Int64(Date().timeIntervalSince1970) + 2 * 86_400)
        let lockRetention = try await store.retention(of: ObjectKey(.locks, "l1"))
        XCTAssertNil(lockRetention, "lock objects must stay removable")
        let read = try await store.get(pack)
        XCTAssertEqual(read, big)
    }

    /// Maintenance: forget leaves a locked snapshot object in place (hidden by its forget record);
    /// `lock extend` pushes the locks of what kept snapshots use and only that; prune deletes
    /// nothing still locked and says when it becomes deletable; once the locks lapsed a prune
    /// deletes every version of what nothing uses. moto lets the test shorten retentions (AWS
    /// would refuse it in compliance mode): that stands for the days passing.
    func testLockExtendAndPruneDeleteOnlyWhatLapsed() async throws {
        let moto = try MotoServer.start()
        let cairn = S3CairnRunner(cacheDir: "\(dir)/cache")
        let bucket = S3TestSupport.bucketName("lockmaint")
        let repo = "s3:\(moto.endpoint)/\(bucket)/cloud"
        let client = try S3TestSupport.client(endpoint: moto.endpoint, bucket: bucket, prefix: "cloud")
        try cairn.ok(["init", "--repo", repo, "--object-lock", "governance", "--lock-days", "10"])
        try TestTree.make(at: "\(dir)/a", files: 4, bigMiB: 1)
        try cairn.ok(["backup", "--repo", repo, "\(dir)/a", "--name", "a"])
        let packsOfA = Set(try await client.listObjects(prefix: "cloud/data/").map(\.key))
        let snapshotOfA = try await client.listObjects(prefix: "cloud/snapshots/").map(\.key)
        try FileManager.default.createDirectory(atPath: "\(dir)/b", withIntermediateDirectories: true)
        try Data(StoreConformance.bytes(1 << 20, seed: 77)).write(to: URL(fileURLWithPath: "\(dir)/b/other.bin"))
        try cairn.ok(["backup", "--repo", repo, "\(dir)/b", "--name", "b"])
        XCTAssertEqual(snapshotOfA.count, 1)

        // Nine days pass: every lock ends tomorrow.
        let now = Int64(Date().timeIntervalSince1970)
        try await setEveryRetention(client, until: now + 86_400)
        // forget A: its snapshot object is locked, so it stays in the store, hidden by the forget record.
        let forget = try cairn.ok(["forget", "--repo", repo, "--keep-last", "1", "--group-by", "", "--json"])
        XCTAssertTrue(forget.err.contains("still locked"), forget.err)
        let listedSnapshots = try await client.listObjects(prefix: "cloud/snapshots/")
        XCTAssertEqual(listedSnapshots.count, 2, "a locked snapshot object was deleted")
        let snaps = try cairn.ok(["snapshots", "--repo", repo, "--json"])
        XCTAssertFalse(snaps.out.contains("\"a\""), snaps.out)
        XCTAssertTrue(snaps.out.contains("\"b\""), snaps.out)

        // lock extend: everything B needs is locked 10 days again; A's snapshot and packs are not.
        let extended = try cairn.ok(["lock", "extend", "--repo", repo, "--json"])
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(extended.out.utf8)) as? [String: Any])
        XCTAssertGreaterThan(report["extended"] as? Int ?? 0, 4, extended.out)
        for (key, _) in try await client.listObjects(prefix: "cloud/") {
            let until = try await client.objectRetention(key).retention?.retainUntil ?? 0
            if packsOfA.contains(key) || snapshotOfA.contains(key) {
                XCTAssertLessThan(until, now + 2 * 86_400, "\(key) is not used but was extended")
            } else if !key.contains("/index/") {
                XCTAssertGreaterThan(until, now + 9 * 86_400, "\(key) is used but was not extended")
            }
        }
        // prune: A's packs are unused but locked: they stay, and prune says until when.
        let prune1 = try cairn.ok(["prune", "--repo", repo])
        XCTAssertTrue(prune1.out.contains("still locked"), prune1.out)
        for key in packsOfA.union(snapshotOfA) {
            let present = try await client.objectRetention(key).exists
            XCTAssertTrue(present, "\(key) was deleted while locked")
        }
        let protection = try cairn.ok(["lock", "status", "--repo", repo])
        XCTAssertTrue(protection.out.contains("Object Lock governance, 10 days; versioning on; newest snapshot"), protection.out)

        // Every lock lapses; maintenance locks again what B uses; prune then deletes what nothing uses, every version.
        try await setEveryRetention(client, until: Int64(Date().timeIntervalSince1970) + 2)
        sleep(3)
        try cairn.ok(["lock", "extend", "--repo", repo])
        let prune2 = try cairn.ok(["prune", "--repo", repo, "--json"])
        let pruned = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(prune2.out.utf8)) as? [String: Any])
        XCTAssertEqual(pruned["packs_deleted"] as? Int, packsOfA.count, prune2.out)
        // What stays locked is the index the first prune wrote (superseded now, it lapses within the lock days).
        XCTAssertLessThanOrEqual(pruned["locked_objects_kept"] as? Int ?? 0, 1, prune2.out)
        let versions = try await client.listObjectVersions(prefix: "cloud/")
        for key in packsOfA.union(snapshotOfA) {
            XCTAssertFalse(versions.contains { $0.key == key }, "\(key) lapsed and is unused but a version of it is left")
        }
        try FileManager.default.removeItem(atPath: "\(dir)/cache")
        try cairn.ok(["restore", "latest", "--repo", repo, "--target", "\(dir)/out"])
        XCTAssertEqual(try TestTree.snapshot("\(dir)/out\(dir)/b"), try TestTree.snapshot("\(dir)/b"))
        try cairn.ok(["scrub", "--repo", repo, "--read-data"])

        // status: immutable-days holds at 5 days, is breached at 30 (exit 5), and without a lock.
        for (days, expect) in [(5, Int32(0)), (30, Int32(5))] {
            let plan = "\(dir)/plan-\(days).toml"
            try "[repository.cloud]\nurl = \"\(repo)\"\npassword-file = \"\(try passFile("correct horse battery staple"))\"\nimmutable-days = \(days)\n"
                .write(toFile: plan, atomically: true, encoding: .utf8)
            let status = try cairn.run(["status", "--plan", plan])
            XCTAssertEqual(status.status, expect, status.out + status.err)
            XCTAssertTrue(status.out.contains("protection: Object Lock governance, 10 days; versioning on; newest snapshot locked until"), status.out)
            if expect == 5 { XCTAssertTrue(status.out.contains("under immutable-days = 30"), status.out) }
        }
    }

    /// Sets the retention of the current version of every object (a test stand-in for time passing).
    private func setEveryRetention(_ client: S3Client, until: Int64) async throws {
        for (key, _) in try await client.listObjects(prefix: client.location.key("")) where !key.contains("/locks/") {
            try await client.putObjectRetention(key, ObjectRetention(mode: .governance, retainUntil: until))
        }
    }

    private func passFile(_ text: String) throws -> String {
        let path = "\(dir)/pass-\(text)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

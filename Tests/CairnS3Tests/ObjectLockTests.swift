import CairnS3
import CairnStorage
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
        let cairn = CairnRunner(cacheDir: "\(dir)/cache")
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
        XCTAssertEqual(try TestTree.snapshot("\(dir)/out/src"), try TestTree.snapshot("\(dir)/src"))
    }

    /// What cannot hold a locked repository is refused before anything is written.
    func testObjectLockNeedsALockedBucketAndAnS3Repository() async throws {
        let moto = try MotoServer.start()
        let cairn = CairnRunner(cacheDir: "\(dir)/cache")
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

    private func passFile(_ text: String) throws -> String {
        let path = "\(dir)/pass-\(text)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

import CairnS3
import CairnStorage
import CairnTestSupport
import Foundation
import XCTest

/// Issue 18.3: the hosts that back up hold append-only credentials. moto 5.2
/// can enforce IAM policies (INITIAL_NO_AUTH_ACTION_COUNT), but then refuses
/// every signed bucket listing with SignatureDoesNotMatch, boto3's too, so
/// these tests put a FAULT-INJECTING PROXY (Support/fault_proxy.py
/// --append-only) in front of moto instead: it answers 403 AccessDenied, as S3
/// does under Docs/immutability.md's bucket policy, to every delete outside
/// locks/, every version delete, every write of a forget record and every PUT
/// over an existing object. The real binary runs through it.
final class AppendOnlyTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "cairn-append-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testBackupWalPushAndCopyWorkWithAppendOnlyCredentialsAndDeletesAreRefusedCleanly() async throws {
        let moto = try MotoServer.start()
        let proxy = try FaultProxy(target: moto.endpoint, fail: 0, drop: 0, corrupt: 0, appendOnly: "cloud")
        defer { proxy.stop() }
        let cairn = S3CairnRunner(cacheDir: "\(dir)/cache")
        let bucket = S3TestSupport.bucketName("append")
        let direct = "s3:\(moto.endpoint)/\(bucket)/cloud"        // the maintenance host's view
        let appendOnly = "s3:\(proxy.endpoint)/\(bucket)/cloud"    // the backup host's
        try cairn.ok(["init", "--repo", direct, "--object-lock", "governance", "--lock-days", "3"])

        // Enough commits for a metadata merge to be due: it is tried, refused, and left for maintenance.
        let src = "\(dir)/src"
        try FileManager.default.createDirectory(atPath: src, withIntermediateDirectories: true)
        try Data(StoreConformance.bytes(200 << 10, seed: 1)).write(to: URL(fileURLWithPath: "\(src)/base.dump"))
        var trees: [String: [String: Data]] = [:]
        for i in 0..<4 {
            try Data("day \(i)\n".utf8).write(to: URL(fileURLWithPath: "\(src)/day.txt"))
            let r = try cairn.ok(["backup", "--repo", appendOnly, src, "--tag", "b\(i)"])
            XCTAssertFalse(r.err.contains("cairn: error"), r.err)
            trees["b\(i)"] = try TestTree.snapshot(src)
        }
        var wal: [String: Data] = [:]
        for n in 0..<5 {
            let name = String(format: "0000000100000000000000%02X", n)
            let bytes = Data(StoreConformance.bytes(32 << 10, seed: UInt64(50 + n)))
            try bytes.write(to: URL(fileURLWithPath: "\(dir)/\(name)"))
            let r = try cairn.ok(["wal-push", "--repo", appendOnly, "\(dir)/\(name)"])
            XCTAssertFalse(r.err.contains("cairn: error"), r.err)
            wal[name] = bytes
        }
        // copy --to: another repository's snapshot into the append-only one.
        let local = "\(dir)/local"
        try cairn.ok(["init", "--repo", local])
        try Data("from the on-site tier\n".utf8).write(to: URL(fileURLWithPath: "\(dir)/onsite.txt"))
        try cairn.ok(["backup", "--repo", local, "\(dir)/onsite.txt", "--tag", "onsite"])
        try cairn.ok(["copy", "--repo", local, "--to", appendOnly])
        XCTAssertTrue(proxy.refusals.contains { $0.hasPrefix("REFUSED DELETE") && $0.contains("/cloud/index/") },
                      "a metadata merge was due and its delete was refused: \(proxy.refusals)")
        XCTAssertFalse(proxy.refusals.contains { $0.contains("/locks/") }, "lock objects must stay removable")
        XCTAssertFalse(proxy.refusals.contains { $0.hasPrefix("REFUSED PUT") }, "backup, wal-push and copy never overwrite an object: \(proxy.refusals)")

        // What must delete is refused before it changes anything, with one line.
        let keysBefore = try await objectNames(moto, bucket, "cloud/keys/")
        try Data("new passphrase\n".utf8).write(to: URL(fileURLWithPath: "\(dir)/new.pass"))
        let passwd = try cairn.run(["key", "passwd", "--repo", appendOnly, "--new-password-file", "\(dir)/new.pass"])
        XCTAssertEqual(passwd.status, 1, passwd.err)
        XCTAssertEqual(passwd.err.split(separator: "\n").count, 1, passwd.err)
        XCTAssertTrue(passwd.err.contains("refused a delete") && passwd.err.contains("nothing was changed"), passwd.err)
        let keysAfter = try await objectNames(moto, bucket, "cloud/keys/")
        XCTAssertEqual(keysAfter, keysBefore, "key passwd half done")
        let forget = try cairn.run(["forget", "--repo", appendOnly, "--keep-last", "1"])
        XCTAssertEqual(forget.status, 1, forget.err)
        XCTAssertEqual(forget.err.split(separator: "\n").count, 1, forget.err)
        XCTAssertTrue(forget.err.contains("AccessDenied"), forget.err)

        // Nothing lost: the maintenance view has every snapshot, each restores byte-identical.
        let listed = try cairn.ok(["snapshots", "--repo", direct, "--json"])
        let snaps = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(listed.out.utf8)) as? [[String: Any]])
        XCTAssertEqual(snaps.count, 4 + 5 + 1, listed.out)
        for (tag, tree) in trees {
            try cairn.ok(["restore", "latest", "--tag", tag, "--repo", appendOnly, "--target", "\(dir)/r-\(tag)"])
            XCTAssertEqual(try TestTree.snapshot("\(dir)/r-\(tag)\(src)"), tree, tag)
        }
        for (name, bytes) in wal {
            try cairn.ok(["wal-fetch", "--repo", appendOnly, name, "\(dir)/fetched"])
            XCTAssertEqual(FileManager.default.contents(atPath: "\(dir)/fetched"), bytes, name)
        }
        let leftLocks = try await objectNames(moto, bucket, "cloud/locks/")
        XCTAssertEqual(leftLocks, [], "every lock object was removed")
        try cairn.ok(["scrub", "--repo", direct])
        // With the maintenance credentials the merge happens and forget works.
        try cairn.ok(["forget", "--repo", direct, "--keep-last", "20"])
    }

    private func objectNames(_ moto: MotoServer, _ bucket: String, _ prefix: String) async throws -> [String] {
        let client = try S3TestSupport.client(endpoint: moto.endpoint, bucket: bucket, prefix: "cloud")
        return try await client.listObjects(prefix: prefix).map(\.key).sorted()
    }
}

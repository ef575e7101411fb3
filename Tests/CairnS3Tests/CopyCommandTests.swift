import CairnTestSupport
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `cairn copy` between a local repository and S3 (moto), both ways, with
/// and without a shared chunker; resumed after being killed.
final class CopyCommandTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "cairn-copy-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    private func json(_ r: S3CairnRunner.Result) throws -> [String: Any] {
        let line = r.out.split(separator: "\n").last.map(String.init) ?? ""
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], r.out)
    }

    func testLocalToS3ToLocalWithSharedChunker() throws {
        let moto = try MotoServer.start()
        let cairn = S3CairnRunner(cacheDir: "\(dir)/cache")
        let a = "\(dir)/a", c = "\(dir)/c"
        let b = "s3:\(moto.endpoint)/\(S3TestSupport.bucketName("copy"))/replica"
        try TestTree.make(at: "\(dir)/src", files: 20, bigMiB: 6)
        try cairn.ok(["init", "--repo", a])
        try cairn.ok(["backup", "--repo", a, "\(dir)/src", "--name", "t"])
        try cairn.ok(["init", "--repo", b, "--copy-chunker-from", a])
        let first = try json(try cairn.ok(["copy", "--repo", a, "--to", b, "--json"]))
        XCTAssertEqual(first["rechunked"] as? Bool, false)
        XCTAssertEqual((first["copied"] as? [Any])?.count, 1)
        XCTAssertGreaterThan(first["blobs_copied"] as? Int ?? 0, 10)

        // Again: nothing to do.
        let again = try json(try cairn.ok(["copy", "--repo", a, "--to", b, "--json"]))
        XCTAssertEqual((again["skipped"] as? [Any])?.count, 1)
        XCTAssertEqual(again["blobs_copied"] as? Int, 0)

        // A small change: only its chunks travel.
        try Data("changed\n".utf8).write(to: URL(fileURLWithPath: "\(dir)/src/f0.txt"))
        try cairn.ok(["backup", "--repo", a, "\(dir)/src", "--name", "t"])
        let delta = try json(try cairn.ok(["copy", "--repo", a, "--to", b, "--json", "--name", "t"]))
        XCTAssertEqual((delta["copied"] as? [Any])?.count, 1)
        XCTAssertLessThan(delta["blobs_copied"] as? Int ?? 99, 8, "\(delta)")
        XCTAssertGreaterThan(delta["blobs_present"] as? Int ?? 0, 50)

        // S3 back to a new local repository; restore from there byte for byte.
        try cairn.ok(["init", "--repo", c, "--copy-chunker-from", b])
        try cairn.ok(["copy", "--repo", b, "--to", c, "latest"])
        try cairn.ok(["restore", "latest", "--repo", c, "--target", "\(dir)/out"])
        XCTAssertEqual(try TestTree.snapshot("\(dir)/out\(dir)/src"), try TestTree.snapshot("\(dir)/src"))
        let scrub = try cairn.ok(["scrub", "--repo", b, "--read-data"])
        XCTAssertTrue(scrub.out.contains("no damage"), scrub.out)
    }

    func testCopyIntoForeignRepositoryRechunks() throws {
        let moto = try MotoServer.start()
        let cairn = S3CairnRunner(cacheDir: "\(dir)/cache")
        let a = "s3:\(moto.endpoint)/\(S3TestSupport.bucketName("src"))/a", d = "\(dir)/d"
        try TestTree.make(at: "\(dir)/src", files: 10, bigMiB: 4)
        try cairn.ok(["init", "--repo", a])
        try cairn.ok(["backup", "--repo", a, "\(dir)/src", "--name", "t"])
        try cairn.ok(["init", "--repo", d])
        let r = try json(try cairn.ok(["copy", "--repo", a, "--to", d, "--json"]))
        XCTAssertEqual(r["rechunked"] as? Bool, true)
        try cairn.ok(["restore", "latest", "--repo", d, "--target", "\(dir)/out"])
        XCTAssertEqual(try TestTree.snapshot("\(dir)/out\(dir)/src"), try TestTree.snapshot("\(dir)/src"))
        // Re-chunked through d's chunker: backing the same files up into d finds them all.
        let b = try json(try cairn.ok(["backup", "--repo", d, "\(dir)/src", "--name", "t", "--force-read", "--json"]))
        XCTAssertEqual(b["new_bytes"] as? Int, 0, "\(b)")
    }

    func testKilledCopyResumes() async throws {
        let moto = try MotoServer.start()
        let cairn = S3CairnRunner(cacheDir: "\(dir)/cache")
        let bucket = S3TestSupport.bucketName("resume")
        let a = "\(dir)/a", b = "s3:\(moto.endpoint)/\(bucket)/r"
        try TestTree.make(at: "\(dir)/src", files: 5, bigMiB: 24)
        try cairn.ok(["init", "--repo", a])
        try cairn.ok(["backup", "--repo", a, "\(dir)/src", "--name", "t"])
        try cairn.ok(["init", "--repo", b, "--copy-chunker-from", a, "--pack-size-mib", "2"])
        // Throttled to 2 MiB/s and killed once a pack is up (a fixed delay was too short on a loaded
        // machine): a few packs are stored, no snapshot.
        let p = try TestProcess.start(try CairnBinary.path(), ["copy", "--repo", a, "--to", b, "--limit-upload", "2048"],
                                      environment: cairn.environment, scratch: URL(fileURLWithPath: dir))
        let client = try S3TestSupport.client(endpoint: moto.endpoint, bucket: bucket, prefix: "r")
        let deadline = Date().addingTimeInterval(300)
        while p.isRunning, Date() < deadline, try await client.listObjects(prefix: "r/data/").isEmpty { usleep(100_000) }
        XCTAssertTrue(p.isRunning, "the throttled copy of 120 MiB ended before the test could stop it")
        usleep(500_000)   // the pack's entry reaches the local index just after the upload
        p.kill(SIGKILL)
        _ = p.wait()
        let none = try cairn.ok(["snapshots", "--repo", b, "--json"])
        XCTAssertFalse(none.out.contains("\"t\""), "no snapshot before the copy completes")
        let resumed = try json(try cairn.ok(["copy", "--repo", a, "--to", b, "--json"]))
        XCTAssertGreaterThan(resumed["blobs_present"] as? Int ?? 0, 0, "the resumed copy reuses what the killed one stored: \(resumed)")
        try cairn.ok(["restore", "latest", "--repo", b, "--target", "\(dir)/out"])
        XCTAssertEqual(try TestTree.snapshot("\(dir)/out\(dir)/src"), try TestTree.snapshot("\(dir)/src"))
    }
}

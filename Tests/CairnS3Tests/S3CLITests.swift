import CairnS3
import CairnTestSupport
import Foundation
import XCTest

/// The real `cairn` binary against moto: every core command on an `s3:`
/// repository, a backup through a failing proxy, what the bucket reveals.
final class S3CLITests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "cairn-s3cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testCoreCommandsOnS3() async throws {
        let moto = try MotoServer.start()
        let cairn = S3CairnRunner(cacheDir: "\(dir)/cache")
        let bucket = S3TestSupport.bucketName("core")
        let repo = "s3:\(moto.endpoint)/\(bucket)/backups/one"
        try TestTree.make(at: "\(dir)/src")

        // init creates the bucket; a second init refuses.
        let created = try cairn.ok(["init", "--repo", repo, "--json"])
        XCTAssertTrue(created.out.contains("\"id\""))
        let again = try cairn.run(["init", "--repo", repo])
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.err.contains("already holds"), again.err)

        try cairn.ok(["backup", "--repo", repo, "\(dir)/src", "--name", "tree"])
        try FileManager.default.removeItem(atPath: "\(dir)/cache")  // a new machine: everything from the bucket
        let snaps = try cairn.ok(["snapshots", "--repo", repo, "--json"])
        XCTAssertTrue(snaps.out.contains("\"tree\""), snaps.out)
        try cairn.ok(["restore", "latest", "--repo", repo, "--target", "\(dir)/out"])
        XCTAssertEqual(try TestTree.snapshot("\(dir)/out\(dir)/src"), try TestTree.snapshot("\(dir)/src"))
        let scrub = try cairn.ok(["scrub", "--repo", repo, "--read-data"])
        XCTAssertTrue(scrub.out.contains("no damage"), scrub.out)
        try cairn.ok(["index", "rebuild", "--repo", repo])
        try cairn.ok(["stats", "--repo", repo])

        // What the bucket shows: awscli sees Cairn's objects; no name is a chunk's SHA-256.
        let listing = try awsList(endpoint: moto.endpoint, bucket: bucket)
        XCTAssertTrue(listing.contains("backups/one/config"), listing)
        XCTAssertTrue(listing.contains("backups/one/data/"), listing)
        var plainHashes = try chunkIDs(of: "\(dir)/src/big.bin")
        XCTAssertFalse(plainHashes.isEmpty)
        for (_, data) in try TestTree.snapshot("\(dir)/src") { plainHashes.append(SigV4Signer.payloadHash([UInt8](data))) }
        for h in plainHashes { XCTAssertFalse(listing.contains(h), "the bucket names a plaintext SHA-256") }
        // Every content-addressed name is the SHA-256 of the stored (encrypted) bytes.
        let client = try S3TestSupport.client(endpoint: moto.endpoint, bucket: bucket, prefix: "backups/one")
        let keys = try await client.listObjects(prefix: "backups/one/").map(\.key)
        XCTAssertGreaterThan(keys.count, 4)
        for key in keys where !key.hasSuffix("/config") && !key.contains("/locks/") {
            let bytes = try await client.getObject(key) ?? []
            XCTAssertEqual(SigV4Signer.payloadHash(bytes), String(key.split(separator: "/").last ?? ""), key)
        }
    }

    func testBackupThroughFailingProxyRestoresExactly() throws {
        let moto = try MotoServer.start()
        let bucket = S3TestSupport.bucketName("proxy")
        let cairn = S3CairnRunner(cacheDir: "\(dir)/cache")
        try cairn.ok(["init", "--repo", "s3:\(moto.endpoint)/\(bucket)/r"])
        let proxy = try FaultProxy(target: moto.endpoint, fail: 0.1, drop: 0.05, corrupt: 0.05, seed: 11)
        defer { proxy.stop() }
        let repo = "s3:\(proxy.endpoint)/\(bucket)/r"
        try TestTree.make(at: "\(dir)/src", files: 20, bigMiB: 40)
        try cairn.ok(["backup", "--repo", repo, "\(dir)/src", "--name", "faulty", "--connections", "4"])
        try cairn.ok(["restore", "latest", "--repo", repo, "--target", "\(dir)/out"])
        XCTAssertEqual(try TestTree.snapshot("\(dir)/out\(dir)/src"), try TestTree.snapshot("\(dir)/src"))
        // Checked directly against the server: every pack is whole and correct.
        let scrub = try cairn.ok(["scrub", "--repo", "s3:\(moto.endpoint)/\(bucket)/r", "--read-data"])
        XCTAssertTrue(scrub.out.contains("no damage"), scrub.out)
        XCTAssertGreaterThan(proxy.faults.count, 3, "faults injected: \(proxy.faults)")
    }

    func testBadInputIsOneLineAndNonZero() throws {
        let moto = try MotoServer.start()
        let cairn = S3CairnRunner(cacheDir: "\(dir)/cache")
        for (args, expect, needle) in [
            // A URL that does not parse is a bad option value: a usage error.
            (["snapshots", "--repo", "s3:ftp://host/bucket"], Int32(2), "bad S3 repository URL"),
            (["snapshots", "--repo", "s3:http://127.0.0.1:1"], 2, "no bucket"),
            (["snapshots", "--repo", "s3:\(moto.endpoint)/\(S3TestSupport.bucketName("none"))/x"], 1, "bucket does not exist"),
            (["snapshots", "--repo", "s3:\(moto.endpoint)/b-x/x", "--connections", "0"], 2, "--connections"),
            (["snapshots", "--repo", "s3:\(moto.endpoint)/b-x/x", "--limit-upload", "-5"], 2, "--limit-upload"),
        ] {
            let r = try cairn.run(args)
            XCTAssertEqual(r.status, expect, "\(args): \(r.err)")
            XCTAssertTrue(r.err.contains(needle), "\(args): \(r.err)")
            XCTAssertEqual(r.err.split(separator: "\n").filter { $0.hasPrefix("cairn: error") }.count, 1, r.err)
        }
        var noCreds = cairn
        noCreds.environment["AWS_ACCESS_KEY_ID"] = nil
        noCreds.environment["AWS_SECRET_ACCESS_KEY"] = nil
        noCreds.environment["HOME"] = dir
        let r = try noCreds.run(["snapshots", "--repo", "s3:\(moto.endpoint)/b-x/x"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("no S3 credentials"), r.err)
        // The secret never shows up in what cairn prints.
        XCTAssertFalse(r.err.contains("cairn-test-secret-key"))
    }

    /// `--s3-storage-class` sends data packs to the class; metadata packs, index,
    /// snapshots, keys and config stay STANDARD (restore planning never touches cold storage).
    func testStorageClassAppliesToDataPacksOnly() throws {
        let moto = try MotoServer.start()
        let cairn = S3CairnRunner(cacheDir: "\(dir)/cache")
        let bucket = S3TestSupport.bucketName("class")
        let repo = "s3:\(moto.endpoint)/\(bucket)/r"
        try TestTree.make(at: "\(dir)/src")
        try cairn.ok(["init", "--repo", repo])
        try cairn.ok(["backup", "--repo", repo, "--s3-storage-class", "STANDARD_IA", "\(dir)/src", "--name", "tree"])
        let classes = try awsStorageClasses(endpoint: moto.endpoint, bucket: bucket)
        let packs = classes.filter { $0.key.contains("/data/") }
        XCTAssertTrue(packs.values.contains("STANDARD_IA"), "data packs take the class: \(packs)")
        XCTAssertTrue(packs.values.contains("STANDARD"), "metadata packs stay STANDARD: \(packs)")
        for (key, cls) in classes where !key.contains("/data/") { XCTAssertEqual(cls, "STANDARD", key) }
        // The metadata packs are exactly the STANDARD ones: a restore reads trees from them.
        try FileManager.default.removeItem(atPath: "\(dir)/cache")
        try cairn.ok(["restore", "latest", "--repo", repo, "--target", "\(dir)/out"])
        XCTAssertEqual(try TestTree.snapshot("\(dir)/out\(dir)/src"), try TestTree.snapshot("\(dir)/src"))
    }

    // MARK: helpers

    /// Key → storage class, from `aws s3api list-objects-v2`.
    private func awsStorageClasses(endpoint: String, bucket: String) throws -> [String: String] {
        let data = try aws(["--endpoint-url", endpoint, "s3api", "list-objects-v2", "--bucket", bucket, "--output", "json"])
        let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        var classes: [String: String] = [:]
        for o in (json?["Contents"] as? [[String: Any]]) ?? [] {
            if let k = o["Key"] as? String { classes[k] = (o["StorageClass"] as? String) ?? "STANDARD" }
        }
        return classes
    }

    /// `aws s3 ls --recursive` against the test server (credentials through the environment).
    private func awsList(endpoint: String, bucket: String) throws -> String {
        String(decoding: try aws(["--endpoint-url", endpoint, "s3", "ls", "--recursive", "s3://\(bucket)"]), as: UTF8.self)
    }

    /// Runs awscli with the test server's credentials; skips when awscli is missing.
    private func aws(_ arguments: [String]) throws -> Data {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["aws"] + arguments
        var env = ProcessInfo.processInfo.environment
        env.merge(MotoServer.environment) { $1 }
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { throw XCTSkip("awscli is not installed") }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        while p.isRunning { usleep(10_000) }
        if p.terminationStatus == 127 { throw XCTSkip("awscli is not installed") }
        XCTAssertEqual(p.terminationStatus, 0)
        return data
    }

    /// The SHA-256 of every chunk `cairn chunk` cuts from a file (file profile).
    private func chunkIDs(of path: String) throws -> [String] {
        let r = try S3CairnRunner(cacheDir: "\(dir)/cache").ok(["chunk", path, "--json", "--avg", "65536"])
        return r.out.components(separatedBy: CharacterSet(charactersIn: "\"")).filter { $0.count == 64 && $0.allSatisfy(\.isHexDigit) }
    }
}

extension S3CLITests {
    /// A server whose PUT answers carry ETags that are not MD5s (SSE-KMS/DSSE
    /// buckets): backup, restore and scrub through it work; one object is read
    /// back to learn it, not every one.
    func testOpaqueETagsDoNotFailUploads() throws {
        let moto = try MotoServer.start()
        let bucket = S3TestSupport.bucketName("kms")
        let cairn = S3CairnRunner(cacheDir: "\(dir)/cache")
        let proxy = try FaultProxy(target: moto.endpoint, fail: 0, drop: 0, corrupt: 0, opaqueETags: true)
        defer { proxy.stop() }
        let repo = "s3:\(proxy.endpoint)/\(bucket)/r"
        try cairn.ok(["init", "--repo", repo])
        try TestTree.make(at: "\(dir)/src", files: 12, bigMiB: 20)
        let started = Date()
        try cairn.ok(["backup", "--repo", repo, "\(dir)/src", "--name", "kms"])
        let seconds = Date().timeIntervalSince(started)
        try cairn.ok(["restore", "latest", "--repo", repo, "--target", "\(dir)/out"])
        XCTAssertEqual(try TestTree.snapshot("\(dir)/out\(dir)/src"), try TestTree.snapshot("\(dir)/src"))
        let scrub = try cairn.ok(["scrub", "--repo", repo, "--read-data"])
        XCTAssertTrue(scrub.out.contains("no damage"), scrub.out)
        let puts = proxy.requests.filter { $0.hasPrefix("PUT") }.count
        XCTAssertGreaterThan(puts, 5, "\(proxy.requests)")
        print("backup through opaque ETags: \(puts) PUTs, \(String(format: "%.2f", seconds)) s\n\(proxy.requests.joined(separator: "\n"))")
    }
}

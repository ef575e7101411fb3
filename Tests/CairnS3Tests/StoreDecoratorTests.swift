import CairnS3
import CairnStorage
import Foundation
import Synchronization
import XCTest

/// RetryingStore, RateLimitedStore and the S3 error classification, without a server.
final class StoreDecoratorTests: XCTestCase {
    /// Fails the first `failures` calls of every operation with `error`.
    final class Flaky: ObjectStore {
        let base = MemoryStore()
        let error: StorageError
        let remaining: Mutex<Int>
        let calls = Mutex(0)
        init(failures: Int, error: StorageError) { self.error = error; remaining = Mutex(failures) }
        var location: String { "flaky" }
        private func step() throws {
            calls.withLock { $0 += 1 }
            if remaining.withLock({ r -> Bool in if r > 0 { r -= 1; return true }; return false }) { throw error }
        }
        func put(_ key: ObjectKey, _ bytes: [UInt8]) async throws { try step(); try await base.put(key, bytes) }
        func get(_ key: ObjectKey) async throws -> [UInt8] { try step(); return try await base.get(key) }
        func get(_ key: ObjectKey, offset: UInt64, length: Int) async throws -> [UInt8] { try step(); return try await base.get(key, offset: offset, length: length) }
        func size(_ key: ObjectKey) async throws -> UInt64? { try step(); return try await base.size(key) }
        func list(_ namespace: ObjectNamespace) async throws -> [ObjectKey] { try step(); return try await base.list(namespace) }
        func delete(_ key: ObjectKey) async throws { try step(); try await base.delete(key) }
    }

    let fast = RetryPolicy(attempts: 5, baseDelay: 0.001, maxDelay: 0.01)

    func testTransientFailuresAreRetried() async throws {
        let flaky = Flaky(failures: 3, error: .transient("503 SlowDown"))
        let store = RetryingStore(flaky, policy: fast)
        try await store.put(ObjectKey(.snapshots, "s"), [1, 2])
        XCTAssertEqual(flaky.calls.withLock { $0 }, 4)
        let got = try await store.get(ObjectKey(.snapshots, "s"))
        XCTAssertEqual(got, [1, 2])
    }

    func testPermanentFailuresAreNot() async throws {
        let flaky = Flaky(failures: 1, error: .io("config", "HTTP 403 AccessDenied"))
        do { _ = try await RetryingStore(flaky, policy: fast).get(.config); XCTFail("expected the error") } catch let e as StorageError {
            XCTAssertEqual(e, .io("config", "HTTP 403 AccessDenied"))
        }
        XCTAssertEqual(flaky.calls.withLock { $0 }, 1)
    }

    func testGivingUpSaysHowOften() async throws {
        let flaky = Flaky(failures: 100, error: .transient("PUT http://h/b/k: HTTP 500"))
        do { try await RetryingStore(flaky, policy: fast).put(.config, [1]); XCTFail("expected the error") } catch let e as StorageError {
            XCTAssertEqual(e, .transient("PUT http://h/b/k: HTTP 500 (gave up after 5 tries)"))
        }
        XCTAssertEqual(flaky.calls.withLock { $0 }, 5)
    }

    func testBackoffIsCappedAndJittered() {
        let p = RetryPolicy(attempts: 10, baseDelay: 0.1, maxDelay: 2)
        for n in 1...10 {
            let d = p.delay(beforeRetry: n)
            XCTAssertGreaterThanOrEqual(d, 0)
            XCTAssertLessThanOrEqual(d, min(2, 0.1 * pow(2, Double(n - 1))))
        }
        XCTAssertGreaterThan(Set((0..<20).map { _ in p.delay(beforeRetry: 5) }).count, 10, "jitter")
    }

    func testUploadLimit() async throws {
        // 1 MiB/s with one second of burst: 3 MiB take about 2 s.
        let store = RateLimitedStore(MemoryStore(), uploadBytesPerSecond: 1_048_576, downloadBytesPerSecond: nil)
        let start = Date()
        for i in 0..<6 { try await store.put(ObjectKey(.snapshots, "\(i)"), [UInt8](repeating: 0, count: 512 << 10)) }
        let t = Date().timeIntervalSince(start)
        XCTAssertGreaterThan(t, 1.7)
        XCTAssertLessThan(t, 3.5)
        // Reads are not limited by the upload limit.
        let r0 = Date()
        for i in 0..<6 { _ = try await store.get(ObjectKey(.snapshots, "\(i)")) }
        XCTAssertLessThan(Date().timeIntervalSince(r0), 0.5)
    }

    func testS3ErrorClassification() {
        func r(_ s: Int, _ c: String) -> S3Error { .response(status: s, code: c, message: "", request: "GET x") }
        XCTAssertTrue(r(503, "SlowDown").isTransient)
        XCTAssertTrue(r(500, "InternalError").isTransient)
        XCTAssertTrue(r(429, "").isTransient)
        XCTAssertTrue(S3Error.transport(request: "GET x", reason: "reset").isTransient)
        XCTAssertFalse(r(403, "AccessDenied").isTransient)
        XCTAssertFalse(r(404, "NoSuchBucket").isTransient)
        XCTAssertFalse(r(403, "SignatureDoesNotMatch").isTransient)
        XCTAssertTrue(r(403, "AccessDenied").description.contains("check the key's policy"))
        XCTAssertTrue(r(404, "NoSuchBucket").description.contains("bucket does not exist"))
    }

    func testCredentialsFileAndProfiles() throws {
        let dir = NSTemporaryDirectory() + "cairn-creds-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = "\(dir)/credentials"
        try Data("""
            [default]
            aws_access_key_id = AKIDDEFAULT
            aws_secret_access_key = secret-default

            [profile backup]
            aws_access_key_id=AKIDBACKUP
            aws_secret_access_key=secret-backup
            aws_session_token = tok
            """.utf8).write(to: URL(fileURLWithPath: file))
        let d = try S3Credentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": file])
        XCTAssertEqual(d.accessKeyID, "AKIDDEFAULT")
        let b = try S3Credentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": file, "AWS_PROFILE": "backup"])
        XCTAssertEqual(b.accessKeyID, "AKIDBACKUP"); XCTAssertEqual(b.sessionToken, "tok")
        let e = try S3Credentials.resolve(environment: ["AWS_ACCESS_KEY_ID": "ENV", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SHARED_CREDENTIALS_FILE": file])
        XCTAssertEqual(e.accessKeyID, "ENV")
        XCTAssertThrowsError(try S3Credentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": file, "AWS_PROFILE": "nope"]))
        XCTAssertThrowsError(try S3Credentials.resolve(environment: ["AWS_ACCESS_KEY_ID": "ENV"]))
    }

    func testLocations() throws {
        let l = try S3Location(url: "s3:https://s3.eu-west-1.amazonaws.com/bucket-1/a/b/")
        XCTAssertEqual(l.bucket, "bucket-1"); XCTAssertEqual(l.prefix, "a/b"); XCTAssertEqual(l.regionFromHost, "eu-west-1")
        XCTAssertEqual(l.target(key: "a/b/config").path, "/bucket-1/a/b/config")
        let v = try S3Location(url: "s3:http://127.0.0.1:9000/bkt", virtualHost: true)
        XCTAssertEqual(v.target(key: "config").host, "bkt.127.0.0.1:9000")
        XCTAssertEqual(v.prefix, "")
        for bad in ["s3:", "s3:http://", "s3:http://h", "s3:ftp://h/b", "s3:http://h/b?x=1", "s3:http://u:p@h/bkt", "s3:http://h/bkt/../x", "s3:http://h/a"] {
            XCTAssertThrowsError(try S3Location(url: bad), bad)
        }
    }
}

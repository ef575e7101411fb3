import CairnStorage
import Foundation
import Synchronization
import XCTest

/// RetryingStore and RateLimitedStore over a store that fails on purpose, without a server.
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
}

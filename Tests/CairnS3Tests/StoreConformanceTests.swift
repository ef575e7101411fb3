import CairnS3
import CairnStorage
import CairnTestSupport
import Foundation
import XCTest

/// The store conformance suite (CairnTestSupport.StoreConformance, also run by
/// CairnStorageTests on the local and memory stores) against S3 (moto), directly
/// and through a proxy that fails, drops and corrupts requests.
final class StoreConformanceTests: XCTestCase {
    func testS3Store() async throws {
        let moto = try MotoServer.start()
        // Pages of 7 keys: the 27-object listing needs four ListObjectsV2 calls.
        let store = try await S3TestSupport.store(endpoint: moto.endpoint, bucket: S3TestSupport.bucketName("conf"),
                                                  options: S3TestSupport.smallParts, listPageSize: 7)
        try await StoreConformance.run(store)
    }

    func testS3StoreThroughFaultyProxy() async throws {
        let moto = try MotoServer.start()
        let bucket = S3TestSupport.bucketName("faulty")
        _ = try await S3TestSupport.store(endpoint: moto.endpoint, bucket: bucket)  // creates the bucket directly
        let proxy = try FaultProxy(target: moto.endpoint, fail: 0.12, drop: 0.06, corrupt: 0.06)
        defer { proxy.stop() }
        let s3 = try await S3TestSupport.store(endpoint: proxy.endpoint, bucket: bucket, options: S3TestSupport.smallParts, listPageSize: 7)
        let store = RetryingStore(s3, policy: RetryPolicy(attempts: 12, baseDelay: 0.01, maxDelay: 0.2))
        try await StoreConformance.run(store)
        XCTAssertGreaterThan(proxy.faults.count, 5, "the proxy injected faults: \(proxy.faults)")
    }
}

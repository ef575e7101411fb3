import CairnStorage
import CairnTestSupport
import Foundation
import XCTest

/// The store conformance suite (CairnTestSupport.StoreConformance) against the
/// stores of this module; CairnS3Tests runs the same suite against S3.
final class StoreConformanceTests: XCTestCase {
    func testLocalStore() async throws {
        let dir = NSTemporaryDirectory() + "cairn-conf-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = LocalStore(root: dir)
        try store.createLayout()
        try await StoreConformance.run(store)
    }

    func testMemoryStore() async throws {
        try await StoreConformance.run(MemoryStore())
    }
}

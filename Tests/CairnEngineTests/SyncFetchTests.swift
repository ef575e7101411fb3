@testable import CairnEngine
@testable import CairnRepository
import CairnFormat
import CairnStorage
import CairnTestSupport
import Foundation
import Synchronization
import XCTest

/// A store whose gets take 20 ms each (a remote store's round trip) and that
/// records how many were in flight at once.
final class SlowGetStore: ObjectStore {
    let base: any ObjectStore
    private let state = Mutex((inFlight: 0, most: 0, gets: 0))
    init(_ base: any ObjectStore) { self.base = base }
    var location: String { base.location }
    var mostInFlight: Int { state.withLock { $0.most } }
    var gets: Int { state.withLock { $0.gets } }
    func put(_ key: ObjectKey, _ bytes: [UInt8]) async throws { try await base.put(key, bytes) }
    func get(_ key: ObjectKey) async throws -> [UInt8] {
        try await slowly { try await base.get(key) }
    }
    /// Metadata objects are read with a ranged get of the size just checked (`MetadataObjects.read`).
    func get(_ key: ObjectKey, offset: UInt64, length: Int) async throws -> [UInt8] {
        try await slowly { try await base.get(key, offset: offset, length: length) }
    }
    private func slowly(_ body: () async throws -> [UInt8]) async throws -> [UInt8] {
        state.withLock { $0.inFlight += 1; $0.most = max($0.most, $0.inFlight); $0.gets += 1 }
        defer { state.withLock { $0.inFlight -= 1 } }
        try await Task.sleep(nanoseconds: 20_000_000)
        return try await body()
    }
    func size(_ key: ObjectKey) async throws -> UInt64? { try await base.size(key) }
    func list(_ namespace: ObjectNamespace) async throws -> [ObjectKey] { try await base.list(namespace) }
    func delete(_ key: ObjectKey) async throws { try await base.delete(key) }
}

final class SyncFetchTests: XCTestCase {
    /// A new cache (the machine that held the old one is gone) loads every
    /// index delta and snapshot with many requests in flight, and loads them all.
    func testFreshCacheLoadsIndexAndSnapshotsConcurrently() async throws {
        let t = try await TestRepository.make()
        var expected: [String: [UInt8]] = [:]
        for i in 0..<40 {
            let bytes = pseudoRandomBytes(3_000 + i, seed: UInt64(i))
            let r = try await backupStream(t.repo, bytes, name: "wal-\(i)")
            expected[r.snapshotID] = bytes
        }
        let indexObjects = try await t.store.list(.index).count
        XCTAssertGreaterThanOrEqual(indexObjects, 40, "one index delta per backup")

        let slow = SlowGetStore(t.store)
        let fresh = try await Repository.open(store: slow, passphrase: TestRepository.passphrase,
                                              cacheBase: TestCacheDirectory.make())
        XCTAssertGreaterThan(slow.mostInFlight, 4, "index deltas and snapshots are fetched concurrently")
        XCTAssertGreaterThanOrEqual(slow.gets, indexObjects + 40)
        XCTAssertEqual(Set(try fresh.snapshots().map(\.id.hex)), Set(expected.keys))
        for (id, bytes) in expected {
            let restored = try await restoreStream(fresh, id)
            XCTAssertEqual(restored, bytes)
        }
    }
}

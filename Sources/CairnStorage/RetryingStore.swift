/// Retries a store's transient failures with capped exponential backoff and
/// jitter. Every operation may be repeated safely: objects are immutable and
/// named by content (a repeated put writes the same bytes), a delete of an
/// absent object succeeds.
public final class RetryingStore: ObjectStore {
    public let base: any ObjectStore
    public let policy: RetryPolicy

    public init(_ base: any ObjectStore, policy: RetryPolicy = .init()) {
        self.base = base; self.policy = policy
    }

    public var location: String { base.location }
    public var listsEveryCompletedPut: Bool { base.listsEveryCompletedPut }
    public var objectLock: (any ObjectLockControl)? { base.objectLock }

    public func put(_ key: ObjectKey, _ bytes: [UInt8]) async throws { try await policy.run { try await base.put(key, bytes) } }
    public func put(_ key: ObjectKey, _ bytes: [UInt8], coldEligible: Bool) async throws {
        try await policy.run { try await base.put(key, bytes, coldEligible: coldEligible) }
    }
    public func putPack(_ key: ObjectKey, _ bytes: [UInt8], coldEligible: Bool) async throws {
        try await policy.run { try await base.putPack(key, bytes, coldEligible: coldEligible) }
    }
    public func get(_ key: ObjectKey) async throws -> [UInt8] { try await policy.run { try await base.get(key) } }
    public func get(_ key: ObjectKey, offset: UInt64, length: Int) async throws -> [UInt8] {
        try await policy.run { try await base.get(key, offset: offset, length: length) }
    }
    public func size(_ key: ObjectKey) async throws -> UInt64? { try await policy.run { try await base.size(key) } }
    public func readWhole(_ key: ObjectKey, limit: UInt64) async throws -> BoundedRead {
        try await policy.run { try await base.readWhole(key, limit: limit) }
    }
    public func list(_ namespace: ObjectNamespace) async throws -> [ObjectKey] { try await policy.run { try await base.list(namespace) } }
    public func delete(_ key: ObjectKey) async throws { try await policy.run { try await base.delete(key) } }
}

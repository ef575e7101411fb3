import CairnStorage

/// An `ObjectStore` that hands every call to `base`. A test store that watches or changes a few
/// calls (counts requests, refuses deletes, runs another writer's step before a delete)
/// subclasses it and overrides only those.
open class ForwardingStore: ObjectStore, @unchecked Sendable {
    public let base: any ObjectStore
    public init(_ base: any ObjectStore) { self.base = base }
    open var location: String { base.location }
    open var listsEveryCompletedPut: Bool { base.listsEveryCompletedPut }
    open func put(_ key: ObjectKey, _ bytes: [UInt8]) async throws { try await base.put(key, bytes) }
    open func get(_ key: ObjectKey) async throws -> [UInt8] { try await base.get(key) }
    open func get(_ key: ObjectKey, offset: UInt64, length: Int) async throws -> [UInt8] {
        try await base.get(key, offset: offset, length: length)
    }
    open func size(_ key: ObjectKey) async throws -> UInt64? { try await base.size(key) }
    open func readWhole(_ key: ObjectKey, limit: UInt64) async throws -> BoundedRead { try await base.readWhole(key, limit: limit) }
    open func list(_ namespace: ObjectNamespace) async throws -> [ObjectKey] { try await base.list(namespace) }
    open func delete(_ key: ObjectKey) async throws { try await base.delete(key) }
}

import Synchronization

/// A store held in memory, for tests and for staging.
public final class MemoryStore: ObjectStore {
    private let objects = Mutex<[ObjectKey: [UInt8]]>([:])
    public let location = "memory"
    public var listsEveryCompletedPut: Bool { true }

    public init() {}

    public func put(_ key: ObjectKey, _ bytes: [UInt8]) async throws { objects.withLock { $0[key] = bytes } }

    public func get(_ key: ObjectKey) async throws -> [UInt8] {
        guard let b = objects.withLock({ $0[key] }) else { throw StorageError.notFound(key.path) }
        return b
    }

    public func get(_ key: ObjectKey, offset: UInt64, length: Int) async throws -> [UInt8] {
        let b = try await get(key)
        let start = Int(min(offset, UInt64(b.count)))
        return Array(b[start..<min(b.count, start + length)])
    }

    public func readWhole(_ key: ObjectKey, limit: UInt64) async throws -> BoundedRead {
        let b = try await get(key)
        return UInt64(b.count) > limit ? .tooLarge(UInt64(b.count)) : .bytes(b)
    }

    public func size(_ key: ObjectKey) async throws -> UInt64? { objects.withLock { $0[key].map { UInt64($0.count) } } }

    public func list(_ namespace: ObjectNamespace) async throws -> [ObjectKey] {
        objects.withLock { $0.keys.filter { $0.namespace == namespace } }
    }

    public func delete(_ key: ObjectKey) async throws { _ = objects.withLock { $0.removeValue(forKey: key) } }

    /// Replaces an object's bytes in place: tests use it to inject corruption.
    public func tamper(_ key: ObjectKey, _ change: ([UInt8]) -> [UInt8]) {
        objects.withLock { if let b = $0[key] { $0[key] = change(b) } }
    }
}

/// Limits a store's upload and download bandwidth (`--limit-upload`,
/// `--limit-download`). Uploads wait before they start; downloads book the
/// bytes they received, so the average stays at the limit.
public final class RateLimitedStore: ObjectStore {
    public let base: any ObjectStore
    private let upload: TokenBucket?
    private let download: TokenBucket?

    /// - Parameters: uploadBytesPerSecond / downloadBytesPerSecond: nil for no limit.
    public init(_ base: any ObjectStore, uploadBytesPerSecond: Double?, downloadBytesPerSecond: Double?) {
        self.base = base
        upload = uploadBytesPerSecond.map { TokenBucket(bytesPerSecond: $0) }
        download = downloadBytesPerSecond.map { TokenBucket(bytesPerSecond: $0) }
    }

    public var location: String { base.location }
    public var listsEveryCompletedPut: Bool { base.listsEveryCompletedPut }
    public var objectLock: (any ObjectLockControl)? { base.objectLock }

    public func put(_ key: ObjectKey, _ bytes: [UInt8]) async throws {
        try await upload?.take(bytes.count)
        try await base.put(key, bytes)
    }

    public func put(_ key: ObjectKey, _ bytes: [UInt8], coldEligible: Bool) async throws {
        try await upload?.take(bytes.count)
        try await base.put(key, bytes, coldEligible: coldEligible)
    }

    public func putPack(_ key: ObjectKey, _ bytes: [UInt8], coldEligible: Bool) async throws {
        try await upload?.take(bytes.count)
        try await base.putPack(key, bytes, coldEligible: coldEligible)
    }

    public func get(_ key: ObjectKey) async throws -> [UInt8] {
        let b = try await base.get(key)
        try await download?.take(b.count)
        return b
    }

    public func get(_ key: ObjectKey, offset: UInt64, length: Int) async throws -> [UInt8] {
        let b = try await base.get(key, offset: offset, length: length)
        try await download?.take(b.count)
        return b
    }

    public func readWhole(_ key: ObjectKey, limit: UInt64) async throws -> BoundedRead {
        let r = try await base.readWhole(key, limit: limit)
        if case .bytes(let b) = r { try await download?.take(b.count) }
        return r
    }

    public func size(_ key: ObjectKey) async throws -> UInt64? { try await base.size(key) }
    public func list(_ namespace: ObjectNamespace) async throws -> [ObjectKey] { try await base.list(namespace) }
    public func delete(_ key: ObjectKey) async throws { try await base.delete(key) }
}

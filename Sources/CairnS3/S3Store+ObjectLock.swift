import CairnStorage
import Foundation

/// Object Lock and versioning for a repository in a bucket (Docs/immutability.md).
extension S3Store: ObjectLockControl {
    public var objectLock: (any ObjectLockControl)? { self }

    public func setPolicy(_ policy: ObjectLockPolicy?) { lockPolicy.withLock { $0 = policy } }

    public var policy: ObjectLockPolicy? { lockPolicy.withLock { $0 } }

    /// The retention a put of `key` carries now: the policy's mode for its days from now.
    func retentionForNewObject(_ key: ObjectKey) -> ObjectRetention? {
        guard let policy, ObjectLockPolicy.applies(to: key.namespace) else { return nil }
        return ObjectRetention(mode: policy.mode, retainUntil: Int64(Date().timeIntervalSince1970) + Int64(policy.days) * 86_400)
    }

    private func storageErrors<T>(_ key: ObjectKey, _ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let e as S3Error { throw Self.storageError(e, path: key.path) }
    }

    public func retention(of key: ObjectKey) async throws -> ObjectRetention? {
        let name = client.location.key(key.path)
        let found = try await storageErrors(key) { try await client.objectRetention(name) }
        guard found.exists else { throw StorageError.notFound(key.path) }
        return found.retention
    }

    public func setRetention(of key: ObjectKey, _ retention: ObjectRetention) async throws {
        let name = client.location.key(key.path)
        try await storageErrors(key) { try await client.putObjectRetention(name, retention) }
    }

    public func protection() async throws -> BucketProtection {
        try await storageErrors(ObjectKey.config) { try await client.bucketProtection() }
    }

    public func versions(_ namespace: ObjectNamespace) async throws -> [ObjectVersion] {
        let base = namespace == .config ? client.location.key("config") : client.location.key("\(namespace.rawValue)/")
        let listed = try await storageErrors(ObjectKey(namespace, "")) { try await client.listObjectVersions(prefix: base) }
        var out: [ObjectVersion] = []
        for v in listed {
            let rest = v.key.dropFirst(base.count)
            let key: ObjectKey
            switch namespace {
            case .config:
                guard rest.isEmpty else { continue }
                key = .config
            case .data:
                let parts = rest.split(separator: "/", omittingEmptySubsequences: false)
                guard parts.count == 2, parts[1].count == 64, parts[1].hasPrefix(parts[0]) else { continue }
                key = ObjectKey(.data, String(parts[1]))
            default:
                guard !rest.isEmpty, !rest.contains("/") else { continue }
                key = ObjectKey(namespace, String(rest))
            }
            out.append(ObjectVersion(key: key, versionID: v.versionID, lastModifiedMillis: v.lastModifiedMillis,
                                     isDeleteMarker: v.isDeleteMarker, size: v.size))
        }
        return out
    }

    public func versions(of key: ObjectKey) async throws -> [ObjectVersion] {
        let name = client.location.key(key.path)
        return try await storageErrors(key) { try await client.listObjectVersions(prefix: name) }
            .filter { $0.key == name }
            .map { ObjectVersion(key: key, versionID: $0.versionID, lastModifiedMillis: $0.lastModifiedMillis, isDeleteMarker: $0.isDeleteMarker, size: $0.size) }
    }

    public func get(_ key: ObjectKey, version: String, offset: UInt64?, length: Int?) async throws -> [UInt8] {
        let name = client.location.key(key.path)
        var range: ClosedRange<UInt64>?
        if let offset, let length {
            guard length > 0 else { return [] }
            range = offset...(offset + UInt64(length) - 1)
        }
        guard let bytes = try await storageErrors(key, { try await client.getObjectVersion(name, version: version, range: range) }) else {
            throw StorageError.notFound("\(key.path) version \(version)")
        }
        return bytes
    }

    public func deleteVersion(_ key: ObjectKey, version: String) async throws {
        let name = client.location.key(key.path)
        try await storageErrors(key) { try await client.deleteObjectVersion(name, version: version) }
    }
}

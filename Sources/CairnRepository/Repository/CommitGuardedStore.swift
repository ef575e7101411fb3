#if canImport(Glibc)
import Glibc
#endif
import CairnStorage
import Synchronization

/// Wraps a store so that a check runs right before every write that commits
/// something others rely on: index deltas and snapshots. A backup installs
/// its shared lock's `ensureValid` here, so a backup whose lock was removed
/// as stale (and that a prune may have raced) stops before it names a pack
/// or commits a snapshot (format-spec/v1.md §19).
public final class CommitGuardedStore: ObjectStore {
    public let base: any ObjectStore
    private let check = Mutex<(@Sendable () async throws -> Void)?>(nil)

    public init(_ base: any ObjectStore) { self.base = base }

    public func setGuard(_ guardCheck: (@Sendable () async throws -> Void)?) { check.withLock { $0 = guardCheck } }

    public var location: String { base.location }
    public var listsEveryCompletedPut: Bool { base.listsEveryCompletedPut }
    public var objectLock: (any ObjectLockControl)? { base.objectLock }

    /// Runs the check before a write that commits something (an index delta or a snapshot).
    private func checkBeforeCommit(_ key: ObjectKey) async throws {
        if key.namespace == .index || key.namespace == .snapshots, let c = check.withLock({ $0 }) { try await c() }
    }

    public func put(_ key: ObjectKey, _ bytes: [UInt8]) async throws {
        try await checkBeforeCommit(key)
        try await base.put(key, bytes)
    }

    public func put(_ key: ObjectKey, _ bytes: [UInt8], coldEligible: Bool) async throws {
        try await checkBeforeCommit(key)
        try await base.put(key, bytes, coldEligible: coldEligible)
    }

    public func putPack(_ key: ObjectKey, _ bytes: [UInt8], coldEligible: Bool) async throws {
        try await checkBeforeCommit(key)
        try await base.putPack(key, bytes, coldEligible: coldEligible)
    }

    public var stagingDirectory: String? { base.stagingDirectory }
    public var stagingModes: FileModes { base.stagingModes }
    public func localPath(_ key: ObjectKey) -> String? { base.localPath(key) }

    public func putFile(_ key: ObjectKey, path: String, coldEligible: Bool) async throws {
        // putFile removes the file whatever happens, the refused case included.
        do { try await checkBeforeCommit(key) } catch { unlink(path); throw error }
        try await base.putFile(key, path: path, coldEligible: coldEligible)
    }

    public func get(_ key: ObjectKey) async throws -> [UInt8] { try await base.get(key) }
    public func get(_ key: ObjectKey, offset: UInt64, length: Int) async throws -> [UInt8] { try await base.get(key, offset: offset, length: length) }
    public func size(_ key: ObjectKey) async throws -> UInt64? { try await base.size(key) }
    public func readWhole(_ key: ObjectKey, limit: UInt64) async throws -> BoundedRead { try await base.readWhole(key, limit: limit) }
    public func list(_ namespace: ObjectNamespace) async throws -> [ObjectKey] { try await base.list(namespace) }
    public func delete(_ key: ObjectKey) async throws { try await base.delete(key) }
}

import CairnFormat
import CairnStorage
import Foundation
import Synchronization

/// Deletions in a repository written with Object Lock (Docs/immutability.md):
/// an object still locked is never sent a delete (on a versioned bucket that
/// would only hide it behind a delete marker); it is left for a later run and
/// counted, with the date it becomes deletable. An object whose lock lapsed is
/// deleted for good, every version of it, so that prune frees the space.
public final class ObjectLockGuard: Sendable {
    let control: any ObjectLockControl
    let store: any ObjectStore
    let retry = RetryPolicy()
    private let state = Mutex(Deferred())

    /// Objects left in place because they are locked: how many, the first and the last date they lapse.
    public struct Deferred: Sendable, Equatable {
        public var count = 0
        public var earliest: Int64?
        public var latest: Int64?

        mutating func add(_ until: Int64) {
            count += 1
            earliest = min(earliest ?? until, until)
            latest = max(latest ?? until, until)
        }
    }

    /// nil for a repository without Object Lock: deletions go on as before.
    public init?(repo: Repository) {
        guard repo.config.objectLock != nil, let control = repo.store.objectLock else { return nil }
        self.control = control
        self.store = repo.store
    }

    public var deferred: Deferred { state.withLock { $0 } }

    /// The date `key` stays locked until, or nil when it may be deleted now (or is gone).
    public func lockedUntil(_ key: ObjectKey, now: Int64 = Int64(Date().timeIntervalSince1970)) async throws -> Int64? {
        let retention: ObjectRetention?
        do { retention = try await retry.run { try await control.retention(of: key) } } catch StorageError.notFound { return nil }
        guard let retention, retention.isLocked(now: now) else { return nil }
        return retention.retainUntil
    }

    /// Deletes `key` for good unless it is locked; returns false (and counts it) when it stays.
    @discardableResult
    public func delete(_ key: ObjectKey) async throws -> Bool {
        if let until = try await lockedUntil(key) {
            state.withLock { $0.add(until) }
            return false
        }
        try await deleteEveryVersion(key)
        return true
    }

    /// Counts an object left in place by a caller that checked `lockedUntil` itself.
    public func record(lockedUntil until: Int64) { state.withLock { $0.add(until) } }

    /// Removes the current object and every older version of it.
    func deleteEveryVersion(_ key: ObjectKey) async throws {
        try await store.delete(key)
        let versions = try await retry.run { try await control.versions(of: key) }
        for v in versions { try await retry.run { try await control.deleteVersion(key, version: v.versionID) } }
    }

    /// One line for a person: what stays and when it can go.
    public static func describe(_ d: Deferred) -> String? {
        guard d.count > 0, let first = d.earliest, let last = d.latest else { return nil }
        let range = first == last ? "on \(utc(first))" : "from \(utc(first)) to \(utc(last))"
        return "\(d.count) object(s) are still locked (S3 Object Lock) and stay: they become deletable \(range); a later prune deletes them"
    }

    package static func utc(_ seconds: Int64) -> String {
        ForgetRecords.utc(seconds * 1_000_000_000)
    }
}

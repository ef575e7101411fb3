#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A read-only view of a versioned bucket as it was at one moment: each key
/// shows the newest version written at or before `asOfMillis`, and a key whose
/// newest such entry is a delete marker (or that had no version yet) is absent.
/// What an attacker deleted or overwrote later is seen as it was (`cairn
/// recover --as-of`, Docs/immutability.md). Writes and deletes are refused.
public final class AsOfStore: ObjectStore {
    let control: any ObjectLockControl
    public let base: any ObjectStore
    public let asOfMillis: Int64
    /// Per namespace: key -> (version, size) as of the moment, listed once.
    private let views = Mutex<[ObjectNamespace: [ObjectKey: (version: String, size: UInt64)]]>([:])

    public init(_ base: any ObjectStore, control: any ObjectLockControl, asOfMillis: Int64) {
        self.base = base; self.control = control; self.asOfMillis = asOfMillis
    }

    public var location: String { "\(base.location) as of \(AsOfStore.describe(millis: asOfMillis))" }

    /// The newest entry per key at or before `millis`, among `versions` (listed newest first per key,
    /// as S3 lists them: of two entries with the same time, the first listed is the newer).
    public static func view(of versions: [ObjectVersion], asOf millis: Int64) -> [ObjectKey: (version: String, size: UInt64)] {
        var chosen: [ObjectKey: ObjectVersion] = [:]
        for v in versions where v.lastModifiedMillis <= millis {
            if let c = chosen[v.key], c.lastModifiedMillis >= v.lastModifiedMillis { continue }
            chosen[v.key] = v
        }
        var out: [ObjectKey: (version: String, size: UInt64)] = [:]
        for (k, v) in chosen where !v.isDeleteMarker { out[k] = (v.versionID, v.size) }
        return out
    }

    private func view(_ namespace: ObjectNamespace) async throws -> [ObjectKey: (version: String, size: UInt64)] {
        if let v = views.withLock({ $0[namespace] }) { return v }
        let listed = try await RetryPolicy().run { try await control.versions(namespace) }
        let v = Self.view(of: listed, asOf: asOfMillis)
        views.withLock { $0[namespace] = v }
        return v
    }

    private func entry(_ key: ObjectKey) async throws -> (version: String, size: UInt64) {
        guard let e = try await view(key.namespace)[key] else { throw StorageError.notFound(key.path) }
        return e
    }

    public func get(_ key: ObjectKey) async throws -> [UInt8] {
        let e = try await entry(key)
        return try await RetryPolicy().run { try await control.get(key, version: e.version, offset: nil, length: nil) }
    }

    public func get(_ key: ObjectKey, offset: UInt64, length: Int) async throws -> [UInt8] {
        let e = try await entry(key)
        guard length > 0, offset < e.size else { return [] }
        return try await RetryPolicy().run { try await control.get(key, version: e.version, offset: offset, length: length) }
    }

    public func size(_ key: ObjectKey) async throws -> UInt64? { try await view(key.namespace)[key]?.size }

    public func list(_ namespace: ObjectNamespace) async throws -> [ObjectKey] { Array(try await view(namespace).keys) }

    public func put(_ key: ObjectKey, _ bytes: [UInt8]) async throws {
        throw StorageError.io(key.path, "\(location) is a read-only view of the past: nothing can be written to it")
    }

    public func delete(_ key: ObjectKey) async throws {
        throw StorageError.io(key.path, "\(location) is a read-only view of the past: nothing can be deleted from it")
    }

    /// The view reads old versions and writes nothing: the repository's lock needs no control here.
    public var objectLock: (any ObjectLockControl)? { ReadOnlyLock() }

    /// `2026-12-06T11:12:37.123Z`.
    public static func describe(millis: Int64) -> String {
        var t = time_t(millis / 1000)
        var parts = tm()
        gmtime_r(&t, &parts)
        func pad(_ v: Int32, _ n: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, n - s.count)) + s }
        let ms = Int32(((millis % 1000) + 1000) % 1000)
        return "\(parts.tm_year + 1900)-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))"
            + (ms == 0 ? "Z" : ".\(pad(ms, 3))Z")
    }
}

/// The lock control of a read-only view: accepts the repository's policy (nothing is written to apply it to), answers nothing else.
struct ReadOnlyLock: ObjectLockControl {
    func setPolicy(_ policy: ObjectLockPolicy?) {}
    var policy: ObjectLockPolicy? { nil }
    private func refuse() -> StorageError { .io("", "a view of the past has no Object Lock operations") }
    func retention(of key: ObjectKey) async throws -> ObjectRetention? { throw refuse() }
    func setRetention(of key: ObjectKey, _ retention: ObjectRetention) async throws { throw refuse() }
    func protection() async throws -> BucketProtection { throw refuse() }
    func versions(_ namespace: ObjectNamespace) async throws -> [ObjectVersion] { throw refuse() }
    func versions(of key: ObjectKey) async throws -> [ObjectVersion] { throw refuse() }
    func get(_ key: ObjectKey, version: String, offset: UInt64?, length: Int?) async throws -> [UInt8] { throw refuse() }
    func deleteVersion(_ key: ObjectKey, version: String) async throws { throw refuse() }
}

/// S3 Object Lock's two retention modes (Docs/immutability.md).
public enum ObjectLockMode: String, Sendable, CaseIterable {
    /// Nobody can shorten or remove the retention, not even the account's root user.
    case compliance = "COMPLIANCE"
    /// Principals with `s3:BypassGovernanceRetention` can; everyone else cannot.
    case governance = "GOVERNANCE"

    /// `governance` or `compliance`, as the command line spells it.
    public var name: String { rawValue.lowercased() }

    public init?(name: String) {
        guard let m = ObjectLockMode(rawValue: name.uppercased()) else { return nil }
        self = m
    }
}

/// How long every object a repository writes stays locked: `mode` for `days`
/// from its upload (lock objects excepted: they must stay removable).
public struct ObjectLockPolicy: Sendable, Equatable {
    public var mode: ObjectLockMode
    public var days: Int

    /// The longest lock Cairn writes (100 years): S3 has no limit, but a typo should not lock data for millennia.
    public static let maximumDays = 36_500

    public init(mode: ObjectLockMode, days: Int) { self.mode = mode; self.days = days }

    /// Lock objects are deleted when their holder finishes; everything else is locked.
    public static func applies(to namespace: ObjectNamespace) -> Bool { namespace != .locks }
}

/// The retention an object version carries: locked in `mode` until `retainUntil` (seconds since 1970).
public struct ObjectRetention: Sendable, Equatable {
    public var mode: ObjectLockMode
    public var retainUntil: Int64

    public init(mode: ObjectLockMode, retainUntil: Int64) { self.mode = mode; self.retainUntil = retainUntil }

    public func isLocked(now: Int64) -> Bool { retainUntil > now }
}

/// What a bucket offers against deletion.
public struct BucketProtection: Sendable, Equatable {
    /// `Enabled`, `Suspended` or `Off` (never enabled).
    public var versioning: String
    /// Object Lock is enabled on the bucket (it can only be enabled with versioning on).
    public var objectLockEnabled: Bool

    public init(versioning: String, objectLockEnabled: Bool) { self.versioning = versioning; self.objectLockEnabled = objectLockEnabled }

    public var versioningEnabled: Bool { versioning == "Enabled" }
}

/// One version of an object in a versioned bucket, or a delete marker.
public struct ObjectVersion: Sendable, Equatable {
    public var key: ObjectKey
    public var versionID: String
    /// When this version was written (milliseconds since 1970, as S3 keeps it).
    public var lastModifiedMillis: Int64
    public var isDeleteMarker: Bool
    public var size: UInt64

    public init(key: ObjectKey, versionID: String, lastModifiedMillis: Int64, isDeleteMarker: Bool, size: UInt64) {
        self.key = key; self.versionID = versionID; self.lastModifiedMillis = lastModifiedMillis
        self.isDeleteMarker = isDeleteMarker; self.size = size
    }
}

/// What a store that supports S3 Object Lock and versioning can do beyond
/// `ObjectStore`. Stores reach it through `ObjectStore.objectLock`; decorators
/// pass their base's through, so a repository that requires locks fails to
/// open on a store that cannot write them instead of writing unlocked objects.
public protocol ObjectLockControl: Sendable {
    /// From now on every put of a namespace `ObjectLockPolicy.applies(to:)` carries this retention
    /// (`mode`, until `days` after the put); nil: none.
    func setPolicy(_ policy: ObjectLockPolicy?)
    var policy: ObjectLockPolicy? { get }
    /// The current version's retention; nil when it has none; `StorageError.notFound` when the object is absent.
    func retention(of key: ObjectKey) async throws -> ObjectRetention?
    /// Sets the current version's retention (only ever later: S3 refuses to shorten a compliance lock).
    func setRetention(of key: ObjectKey, _ retention: ObjectRetention) async throws
    /// The bucket's versioning and Object Lock configuration.
    func protection() async throws -> BucketProtection
    /// Every version and delete marker in a namespace, in the server's order (S3: newest first per key).
    func versions(_ namespace: ObjectNamespace) async throws -> [ObjectVersion]
    /// Every version and delete marker of one object.
    func versions(of key: ObjectKey) async throws -> [ObjectVersion]
    /// One version's bytes, or `length` of them from `offset` (both nil: all).
    func get(_ key: ObjectKey, version: String, offset: UInt64?, length: Int?) async throws -> [UInt8]
    /// Removes one version for good (refused by the server while it is locked).
    func deleteVersion(_ key: ObjectKey, version: String) async throws
}

extension ObjectStore {
    public var objectLock: (any ObjectLockControl)? { nil }
}

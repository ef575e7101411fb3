#if canImport(Glibc)
import Glibc
#endif

/// The one small protocol every storage backend implements. Objects are
/// immutable and written whole: `put` either stores all the bytes or nothing
/// is visible under the key.
public protocol ObjectStore: Sendable {
    /// A human-readable location, for messages.
    var location: String { get }
    /// Stores `bytes` under `key` durably (complete-or-absent).
    func put(_ key: ObjectKey, _ bytes: [UInt8]) async throws
    /// The whole object; `StorageError.notFound` when absent.
    func get(_ key: ObjectKey) async throws -> [UInt8]
    /// `length` bytes from `offset`; fewer only if the object is shorter.
    func get(_ key: ObjectKey, offset: UInt64, length: Int) async throws -> [UInt8]
    /// The object's size, or nil when it does not exist.
    func size(_ key: ObjectKey) async throws -> UInt64?
    /// The whole object in one request when it is at most `limit` bytes
    /// (`StorageError.notFound` when absent): what a reader of small objects
    /// needs without a `size` request first. The default asks `size`, then `get`.
    func readWhole(_ key: ObjectKey, limit: UInt64) async throws -> BoundedRead
    /// Every key in a namespace, in no particular order.
    func list(_ namespace: ObjectNamespace) async throws -> [ObjectKey]
    /// Removes an object; removing an absent object is not an error.
    func delete(_ key: ObjectKey) async throws
    /// Stores a pack; `coldEligible` packs (data packs) may go to a cheaper,
    /// slower storage class where the backend has one. Metadata packs never
    /// do, so listing and restore planning never wait on cold storage.
    func put(_ key: ObjectKey, _ bytes: [UInt8], coldEligible: Bool) async throws
    /// Stores a pack whose bytes are exactly the pack `key` names (their SHA-256
    /// is its name), like `put(_:_:coldEligible:)`. A store may take the name as
    /// the bytes' checksum instead of hashing them again (S3 sends it as the
    /// upload's checksum and signed payload hash, which the server checks).
    func putPack(_ key: ObjectKey, _ bytes: [UInt8], coldEligible: Bool) async throws
    /// True when a listing that starts after a `put` returned always shows
    /// that object (a local disk, memory). The lock protocol then needs no
    /// pause for lagging listings (format-spec §19, step 3).
    var listsEveryCompletedPut: Bool { get }
    /// A directory where objects may be assembled in files that `putFile`
    /// then moves into place without copying (a local store's `tmp/`); nil
    /// when the store has none.
    var stagingDirectory: String? { get }
    /// The permissions of files staged in `stagingDirectory` (the store's own).
    var stagingModes: FileModes { get }
    /// The local file that holds `key`, for a store on local disk; nil otherwise.
    /// An interrupted process removes its lock objects through it without the store.
    func localPath(_ key: ObjectKey) -> String?
    /// Stores the complete, closed file at `path` under `key` (complete-or-absent,
    /// like `put`) and removes the file, whether or not the put succeeded. The
    /// file is a pack named by its SHA-256, as for `putPack`.
    func putFile(_ key: ObjectKey, path: String, coldEligible: Bool) async throws
    /// Object Lock and versioning (an S3 bucket); nil for stores without them (`ObjectLock.swift`).
    var objectLock: (any ObjectLockControl)? { get }
}

extension ObjectStore {
    /// Backends without storage classes store every object the same way.
    public func put(_ key: ObjectKey, _ bytes: [UInt8], coldEligible: Bool) async throws { try await put(key, bytes) }

    /// Stores without using the name: the default for stores that hash nothing on upload.
    public func putPack(_ key: ObjectKey, _ bytes: [UInt8], coldEligible: Bool) async throws {
        try await put(key, bytes, coldEligible: coldEligible)
    }

    /// Remote backends promise less: S3-compatible servers differ, so assume listings may lag.
    public var listsEveryCompletedPut: Bool { false }

    public var stagingDirectory: String? { nil }

    public var stagingModes: FileModes { .ownerOnly }

    public func localPath(_ key: ObjectKey) -> String? { nil }

    /// `size`, then a ranged `get` of that size: two requests (stores that can do it in one override this).
    public func readWhole(_ key: ObjectKey, limit: UInt64) async throws -> BoundedRead {
        guard let size = try await size(key) else { throw StorageError.notFound(key.path) }
        guard size <= limit else { return .tooLarge(size) }
        // A ranged read of the size just checked: an object replaced meanwhile by a larger one is still read only this far.
        let bytes = try await get(key, offset: 0, length: Int(size))
        return bytes.count == Int(size) ? .bytes(bytes) : .changed
    }

    /// Reads the file back and stores it with `putPack`: a store that cannot move
    /// a file in (S3, memory, test decorators) sees an ordinary put of a pack.
    public func putFile(_ key: ObjectKey, path: String, coldEligible: Bool) async throws {
        defer { unlink(path) }
        let bytes = try await BlockingIO.run { try LocalFile.read(path) }
        try await putPack(key, bytes, coldEligible: coldEligible)
    }
}

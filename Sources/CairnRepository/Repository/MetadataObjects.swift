import CairnCrypto
import CairnFormat
import CairnStorage

/// Reading the store's small objects (`config`, key files, index deltas,
/// snapshots, locks) as untrusted input: an object's size is checked before
/// a byte of it is read, and an object named by the hash of its bytes is
/// checked against that name (format-spec §2).
public enum MetadataObjects {
    /// The largest object a reader accepts in each namespace (format-spec §2);
    /// nil for packs, whose size the index states. Each is far above what a
    /// writer produces, so junk of any size costs one `size` call.
    public static func maximumSize(_ namespace: ObjectNamespace) -> UInt64? {
        switch namespace {
        case .config: return 1 << 20
        case .keys: return 64 << 10
        case .index: return 256 << 20
        case .snapshots: return 64 << 20
        case .locks: return 64 << 10
        case .forgotten: return 64 << 20
        case .data: return nil
        }
    }

    /// Whether objects of `namespace` are named by the SHA-256 of their bytes.
    public static func isNamedByHash(_ namespace: ObjectNamespace) -> Bool {
        switch namespace {
        case .keys, .index, .snapshots, .data, .forgotten: return true
        case .config, .locks: return false
        }
    }

    /// The whole object, refused unread when it is larger than its
    /// namespace allows (`CairnError.damagedObject`).
    public static func read(_ store: any ObjectStore, _ key: ObjectKey) async throws -> [UInt8] {
        guard let size = try await store.size(key) else { throw StorageError.notFound(key.path) }
        if let cap = maximumSize(key.namespace), size > cap {
            throw CairnError.damagedObject(key.path, "it is \(size) bytes, more than the \(cap) bytes any \(noun(key.namespace)) may have (format-spec §2)")
        }
        // A ranged read of the size just checked: an object replaced meanwhile by a larger one is still read only this far.
        let bytes = try await store.get(key, offset: 0, length: Int(size))
        guard bytes.count == Int(size) else { throw CairnError.damagedObject(key.path, "it changed while it was read") }
        return bytes
    }

    /// Whether `bytes` hash to the object's name; true for objects not named by their hash.
    public static func matchesName(_ key: ObjectKey, _ bytes: [UInt8]) -> Bool {
        guard isNamedByHash(key.namespace) else { return true }
        return Hex.encode(SHA256.hash(bytes)) == key.name
    }

    /// `read`, then the name check: an object whose bytes do not hash to its name is refused.
    public static func readVerified(_ store: any ObjectStore, _ key: ObjectKey) async throws -> [UInt8] {
        let bytes = try await read(store, key)
        guard matchesName(key, bytes) else { throw CairnError.damagedObject(key.path, nameMismatch) }
        return bytes
    }

    /// Why an object named by its hash was refused.
    public static let nameMismatch = "its content does not match its name (SHA-256): renamed, replaced or damaged"

    static func noun(_ namespace: ObjectNamespace) -> String {
        switch namespace {
        case .config: return "repository config"
        case .keys: return "key file"
        case .index: return "index object"
        case .snapshots: return "snapshot object"
        case .locks: return "lock object"
        case .forgotten: return "forget record"
        case .data: return "pack"
        }
    }
}

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
    /// writer produces, so junk of any size is refused after reading at most
    /// this much (on a local store, unread).
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

    /// The whole object, refused when it is larger than its namespace allows
    /// (`CairnError.damagedObject`): one request (`ObjectStore.readWhole`), not a
    /// `size` request before the read, so a cold open's requests are one per object.
    public static func read(_ store: any ObjectStore, _ key: ObjectKey) async throws -> [UInt8] {
        let cap = maximumSize(key.namespace)
        switch try await store.readWhole(key, limit: cap ?? UInt64.max) {
        case .bytes(let bytes): return bytes
        case .tooLarge(let size):
            let cap = cap ?? UInt64.max
            let what = size.map { "it is \($0) bytes, more" } ?? "it is more"
            throw CairnError.damagedObject(key.path, "\(what) than the \(cap) bytes any \(noun(key.namespace)) may have (format-spec §2)")
        case .changed: throw CairnError.damagedObject(key.path, "it changed while it was read")
        }
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

/// The framing of the encrypted repository objects `config`, `index/…`,
/// `snapshots/…` and `locks/…`: a 4-byte magic naming the kind, a little-endian u16 format
/// version, then the sealed body (`nonce ‖ ciphertext ‖ tag`). The six header
/// bytes are the AEAD associated data, so a body cannot be moved to another
/// kind of object. The version is readable before any key is known, so a
/// repository of a newer format is reported as such, not as a wrong passphrase.
public enum ObjectKind: Sendable, CaseIterable {
    case config, index, snapshot, key, lock
    /// A key replacement record (`keys/replace-…`, format-spec §6).
    case keyReplacement
    /// A forget record (`forgotten/…`, format-spec §20).
    case forgetRecord

    public var magic: [UInt8] {
        switch self {
        case .config: return Array("CRNC".utf8)
        case .index: return Array("CRNI".utf8)
        case .snapshot: return Array("CRNS".utf8)
        case .key: return Array("CRNK".utf8)
        case .lock: return Array("CRNL".utf8)
        case .keyReplacement: return Array("CRNR".utf8)
        case .forgetRecord: return Array("CRNF".utf8)
        }
    }

    public var label: String {
        switch self {
        case .config: return "repository config"
        case .index: return "index delta"
        case .snapshot: return "snapshot"
        case .key: return "key file"
        case .lock: return "lock"
        case .keyReplacement: return "key replacement record"
        case .forgetRecord: return "forget record"
        }
    }
}

public enum ObjectEnvelope {
    /// The repository format version this code writes and reads.
    public static let formatVersion: UInt16 = 1
    public static let headerLength = 6

    public static func header(_ kind: ObjectKind) -> [UInt8] {
        var w = ByteWriter(capacity: 6); w.raw(kind.magic); w.u16(formatVersion); return w.bytes
    }

    /// Checks magic and version; returns the sealed body.
    public static func open(_ bytes: [UInt8], kind: ObjectKind) throws -> [UInt8] {
        guard bytes.count >= headerLength else { throw FormatError.truncated(what: kind.label) }
        guard Array(bytes[0..<4]) == kind.magic else { throw FormatError.badMagic(what: kind.label) }
        let v = UInt16(bytes[4]) | UInt16(bytes[5]) << 8
        guard v == formatVersion else {
            throw FormatError.unsupportedVersion(what: kind.label, version: Int(v), supported: Int(formatVersion))
        }
        return Array(bytes[headerLength...])
    }
}

/// Sizes of the AES-256-GCM framing used everywhere: `nonce ‖ ciphertext ‖ tag`.
public enum SealFraming {
    public static let nonceLength = 12
    public static let tagLength = 16
    public static let overhead = nonceLength + tagLength
}

/// Labels for HMAC-SHA256 subkey derivation from the master key, and the
/// associated-data prefixes. Changing any of these changes the format.
public enum KeyLabels {
    public static let blobRoot = "cairn v1 blob key"
    public static let metadata = "cairn v1 metadata key"
    public static let chunkerSeed = "cairn v1 chunker seed"
    public static let packHeaderAAD = Array("cairn v1 pack header".utf8)
    public static let blobAADPrefix = Array("cairn v1 blob".utf8)

    /// The associated data of a blob: prefix ‖ type ‖ id, and for a delta
    /// blob also ‖ base id, so a delta cannot be paired with another base.
    public static func blobAAD(type: BlobType, id: ChunkID, base: ChunkID? = nil) -> [UInt8] {
        blobAADPrefix + [type.rawValue] + id.bytes + (base?.bytes ?? [])
    }

    /// The message from which a blob's key is derived: type ‖ id.
    public static func blobKeyMessage(type: BlobType, id: ChunkID) -> [UInt8] { [type.rawValue] + id.bytes }
}

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
    /// Format version 1: the envelope version of every object of a version-1
    /// repository, and of the kinds of object whose layout format 2 kept.
    public static let formatVersion: UInt16 = 1
    /// The newest repository format this code reads and writes (format-spec v2.md).
    public static let newestFormatVersion: UInt16 = 2
    public static let headerLength = 6

    /// The envelope versions a reader of this code accepts for `kind`. In
    /// format 2, `config` says the repository's format version (1 or 2); a
    /// `snapshots/` object of version 2 is a snapshot catalogue and a
    /// `forgotten/` object of version 2 a merged forget record; every other
    /// kind kept its version-1 layout.
    public static func versions(_ kind: ObjectKind) -> ClosedRange<UInt16> {
        switch kind {
        case .config, .snapshot, .forgetRecord: return 1...newestFormatVersion
        case .index, .key, .lock, .keyReplacement: return 1...1
        }
    }

    public static func header(_ kind: ObjectKind, version: UInt16 = formatVersion) -> [UInt8] {
        var w = ByteWriter(capacity: 6); w.raw(kind.magic); w.u16(version); return w.bytes
    }

    /// Checks magic and version; returns the sealed body. Only version 1 is
    /// accepted, but for `config` (any version this code reads): a reader
    /// that wants a catalogue or a merged record asks `openVersioned`.
    public static func open(_ bytes: [UInt8], kind: ObjectKind) throws -> [UInt8] {
        try openVersioned(bytes, kind: kind, accepting: kind == .config ? versions(.config) : 1...1).body
    }

    /// Checks magic and version (one of `accepting`); returns the version and the sealed body.
    public static func openVersioned(_ bytes: [UInt8], kind: ObjectKind, accepting: ClosedRange<UInt16>? = nil) throws -> (version: UInt16, body: [UInt8]) {
        guard bytes.count >= headerLength else { throw FormatError.truncated(what: kind.label) }
        guard Array(bytes[0..<4]) == kind.magic else { throw FormatError.badMagic(what: kind.label) }
        let v = UInt16(bytes[4]) | UInt16(bytes[5]) << 8
        let accepted = accepting ?? versions(kind)
        guard accepted.contains(v) else {
            throw FormatError.unsupportedVersion(what: kind.label, version: Int(v), supported: Int(accepted.upperBound))
        }
        return (v, Array(bytes[headerLength...]))
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

/// The plaintext of a key replacement record (format-spec §6): `cairn key
/// passwd` stores one before the new key file and removes it after the old
/// key file, so that a change stopped at any instant is finished by the next
/// reader, and the old passphrase no longer opens once the new key file exists.
///
/// Stored as `keys/replace-<hex SHA-256 of the stored bytes>`, enveloped
/// (`CRNR`) and sealed with the metadata key: only a holder of the master key
/// can write one, so a record in the store is proof of intent.
public struct KeyReplacement: Hashable, Sendable {
    public static let version: UInt8 = 1
    /// Names of records in `keys/` start with this; key files are named by their hash alone.
    public static let namePrefix = "replace-"

    /// The key file (its name) that stops opening the repository.
    public var oldKey: String
    /// The key file (its name) that replaces it.
    public var newKey: String
    /// When the change started, ns since the Unix epoch, UTC.
    public var timeNanos: Int64

    public init(oldKey: String, newKey: String, timeNanos: Int64) {
        self.oldKey = oldKey; self.newKey = newKey; self.timeNanos = timeNanos
    }

    public func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: 160)
        w.u8(Self.version); w.string(oldKey); w.string(newKey); w.i64(timeNanos)
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws -> KeyReplacement {
        let what = "key replacement record"
        var r = ByteReader(bytes, what: what)
        let v = try r.u8()
        guard v == version else { throw FormatError.unsupportedVersion(what: what, version: Int(v), supported: Int(version)) }
        let old = try r.string(), new = try r.string()
        let time = try r.i64()
        try r.expectEnd()
        guard !old.isEmpty, !new.isEmpty, old != new else { throw FormatError.invalid(what: what, reason: "it must name two different key files") }
        return KeyReplacement(oldKey: old, newKey: new, timeNanos: time)
    }

    /// Whether a `keys/` name is a replacement record's.
    public static func isRecordName(_ name: String) -> Bool { name.hasPrefix(namePrefix) }
}

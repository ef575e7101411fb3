/// scrypt cost parameters, stored in each key file.
public struct ScryptParameters: Hashable, Sendable {
    /// log2 of N.
    public var logN: UInt8
    public var r: UInt32
    public var p: UInt32
    public init(logN: UInt8, r: UInt32, p: UInt32) { self.logN = logN; self.r = r; self.p = p }
    /// N = 2^15, r = 8, p = 1: 32 MiB of memory (its time: Docs/performance.md).
    public static let `default` = ScryptParameters(logN: 15, r: 8, p: 1)

    /// The bounds a reader accepts (format-spec §6): what `init` and `key add`
    /// write (the default) with room for stronger settings, but never a cost
    /// that lets one junk key file stall or kill every command.
    public static let logNRange: ClosedRange<UInt8> = 10...20
    public static let rRange: ClosedRange<UInt32> = 1...32
    public static let pRange: ClosedRange<UInt32> = 1...16
    /// 256 MiB: eight times the default's 32 MiB.
    public static let maximumMemory: UInt64 = 256 << 20
    /// Sixteen times the default's N·r·p.
    public static let maximumWork: UInt64 = 16 << 18

    /// scrypt's memory: 128·r·N bytes.
    public var memoryBytes: UInt64 { 128 * UInt64(r) << UInt64(min(logN, 40)) }
    /// N·r·p, which the time taken is proportional to.
    public var work: UInt64 { (UInt64(1) << UInt64(min(logN, 40))) * UInt64(r) * UInt64(p) }

    /// Why a reader refuses these parameters, or nil when they are within bounds.
    public var outOfBoundsReason: String? {
        guard Self.logNRange.contains(logN), Self.rRange.contains(r), Self.pRange.contains(p) else {
            return "scrypt parameters logN=\(logN) r=\(r) p=\(p) are outside logN \(Self.logNRange), r \(Self.rRange), p \(Self.pRange)"
        }
        // RFC 7914: N < 2^(128·r/8).
        if UInt64(logN) >= 16 * UInt64(r) { return "scrypt parameters logN=\(logN) r=\(r) are invalid (N must be below 2^(16·r))" }
        if memoryBytes > Self.maximumMemory { return "scrypt parameters logN=\(logN) r=\(r) need \(memoryBytes >> 20) MiB, more than \(Self.maximumMemory >> 20) MiB" }
        if work > Self.maximumWork { return "scrypt parameters logN=\(logN) r=\(r) p=\(p) cost more than 16 times the default" }
        return nil
    }

    /// Cheaper than the default in memory or work: a stolen key file is easier to guess at.
    public var isWeakerThanDefault: Bool { work < Self.default.work || memoryBytes < Self.default.memoryBytes }
}

/// A `keys/` object: the master key wrapped under a key derived with scrypt
/// from one passphrase. Several key files may wrap the same master key.
///
/// Layout: `"CRNK" ‖ u16le version ‖ u8 kdf(1 = scrypt) ‖ u8 logN ‖ u32le r ‖
/// u32le p ‖ salt[32] ‖ i64le created ‖ string host ‖ string user ‖
/// data(sealed)`. Everything before the sealed field is the associated data,
/// so the KDF parameters (and the version) cannot be altered unnoticed.
///
/// Version 1 seals one master key (32 bytes). Version 2, written once a
/// repository's master key has been rotated (`cairn key rotate`), seals a
/// `WrappedKeyring`: the current master key and the earlier ones, which
/// still open the data written under them (format-spec §6).
public struct KeyFile: Hashable, Sendable {
    public static let kdfScrypt: UInt8 = 1
    /// One master key.
    public static let singleKeyVersion: UInt16 = 1
    /// A keyring of master keys, newest first.
    public static let keyringVersion: UInt16 = 2
    public var version: UInt16
    public var scrypt: ScryptParameters
    public var salt: [UInt8]
    public var createdNanos: Int64
    public var host: String
    public var user: String
    /// nonce ‖ ciphertext(master key, or the encoded keyring for version 2) ‖ tag.
    public var sealedMasterKey: [UInt8]

    public init(version: UInt16 = KeyFile.singleKeyVersion, scrypt: ScryptParameters, salt: [UInt8], createdNanos: Int64, host: String, user: String, sealedMasterKey: [UInt8]) {
        self.version = version
        self.scrypt = scrypt; self.salt = salt; self.createdNanos = createdNanos; self.host = host; self.user = user
        self.sealedMasterKey = sealedMasterKey
    }

    /// The bytes before the sealed master key: the AEAD associated data.
    public func header() -> [UInt8] {
        var w = ByteWriter()
        w.raw(ObjectEnvelope.header(.key, version: version)); w.u8(Self.kdfScrypt); w.u8(scrypt.logN); w.u32(scrypt.r); w.u32(scrypt.p)
        w.raw(salt); w.i64(createdNanos); w.string(host); w.string(user)
        return w.bytes
    }

    public func encoded() -> [UInt8] {
        var w = ByteWriter(); w.raw(header()); w.data(sealedMasterKey); return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws -> KeyFile {
        let what = "key file"
        let (version, body) = try ObjectEnvelope.openVersioned(bytes, kind: .key, accepting: singleKeyVersion...keyringVersion)
        var r = ByteReader(body, what: what)
        let kdf = try r.u8()
        guard kdf == kdfScrypt else { throw FormatError.invalid(what: what, reason: "unknown key derivation function \(kdf)") }
        let params = ScryptParameters(logN: try r.u8(), r: try r.u32(), p: try r.u32())
        if let why = params.outOfBoundsReason { throw FormatError.invalid(what: what, reason: why) }
        let salt = try r.raw(32)
        let created = try r.i64()
        let host = try r.string(), user = try r.string()
        let sealed = try r.data()
        try r.expectEnd()
        if version == singleKeyVersion {
            guard sealed.count == 32 + SealFraming.overhead else { throw FormatError.invalid(what: what, reason: "wrapped key has wrong length") }
        } else {
            let n = sealed.count - SealFraming.overhead - 1
            guard n > 0, n % WrappedKeyring.entryBytes == 0, (1...WrappedKeyring.maximumKeys).contains(n / WrappedKeyring.entryBytes) else {
                throw FormatError.invalid(what: what, reason: "wrapped keyring has wrong length")
            }
        }
        return KeyFile(version: version, scrypt: params, salt: salt, createdNanos: created, host: host, user: user, sealedMasterKey: sealed)
    }
}

/// The plaintext a version-2 key file seals: a repository's master keys,
/// newest first, each with its generation (0 for the key `init` made, one
/// more at each `cairn key rotate`).
///
///     u8 count (1…64) ‖ count × (u32le generation ‖ master key[32])
///
/// Generations strictly decrease; the first key is the current one (it
/// seals everything written now), the others open what was written before.
public struct WrappedKeyring: Hashable, Sendable {
    public struct Entry: Hashable, Sendable {
        public var generation: UInt32
        public var master: [UInt8]
        public init(generation: UInt32, master: [UInt8]) { self.generation = generation; self.master = master }
    }
    public static let entryBytes = 4 + 32
    /// A rotation a day for two months; far more than any repository needs.
    public static let maximumKeys = 64
    public var entries: [Entry]

    public init(entries: [Entry]) { self.entries = entries }

    public func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: 1 + entries.count * Self.entryBytes)
        w.u8(UInt8(entries.count))
        for e in entries { w.u32(e.generation); w.raw(e.master) }
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws -> WrappedKeyring {
        let what = "wrapped keyring"
        var r = ByteReader(bytes, what: what)
        let n = Int(try r.u8())
        guard (1...maximumKeys).contains(n) else { throw FormatError.invalid(what: what, reason: "\(n) keys (1…\(maximumKeys) allowed)") }
        var entries: [Entry] = []
        for _ in 0..<n {
            let e = Entry(generation: try r.u32(), master: try r.raw(32))
            if let last = entries.last, last.generation <= e.generation {
                throw FormatError.invalid(what: what, reason: "generations are not strictly decreasing")
            }
            entries.append(e)
        }
        try r.expectEnd()
        return WrappedKeyring(entries: entries)
    }
}

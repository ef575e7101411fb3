/// scrypt cost parameters, stored in each key file.
public struct ScryptParameters: Hashable, Sendable {
    /// log2 of N.
    public var logN: UInt8
    public var r: UInt32
    public var p: UInt32
    public init(logN: UInt8, r: UInt32, p: UInt32) { self.logN = logN; self.r = r; self.p = p }
    /// N = 2^15, r = 8, p = 1: 32 MiB of memory, ~0.1 s here.
    public static let `default` = ScryptParameters(logN: 15, r: 8, p: 1)
}

/// A `keys/` object: the master key wrapped under a key derived with scrypt
/// from one passphrase. Several key files may wrap the same master key.
///
/// Layout: `"CRNK" ‖ u16le version ‖ u8 kdf(1 = scrypt) ‖ u8 logN ‖ u32le r ‖
/// u32le p ‖ salt[32] ‖ i64le created ‖ string host ‖ string user ‖
/// data(sealed master key)`. Everything before the sealed field is the
/// associated data, so the KDF parameters cannot be altered unnoticed.
public struct KeyFile: Hashable, Sendable {
    public static let kdfScrypt: UInt8 = 1
    public var scrypt: ScryptParameters
    public var salt: [UInt8]
    public var createdNanos: Int64
    public var host: String
    public var user: String
    /// nonce ‖ ciphertext(master key) ‖ tag.
    public var sealedMasterKey: [UInt8]

    public init(scrypt: ScryptParameters, salt: [UInt8], createdNanos: Int64, host: String, user: String, sealedMasterKey: [UInt8]) {
        self.scrypt = scrypt; self.salt = salt; self.createdNanos = createdNanos; self.host = host; self.user = user
        self.sealedMasterKey = sealedMasterKey
    }

    /// The bytes before the sealed master key: the AEAD associated data.
    public func header() -> [UInt8] {
        var w = ByteWriter()
        w.raw(ObjectEnvelope.header(.key)); w.u8(Self.kdfScrypt); w.u8(scrypt.logN); w.u32(scrypt.r); w.u32(scrypt.p)
        w.raw(salt); w.i64(createdNanos); w.string(host); w.string(user)
        return w.bytes
    }

    public func encoded() -> [UInt8] {
        var w = ByteWriter(); w.raw(header()); w.data(sealedMasterKey); return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws -> KeyFile {
        let what = "key file"
        let body = try ObjectEnvelope.open(bytes, kind: .key)
        var r = ByteReader(body, what: what)
        let kdf = try r.u8()
        guard kdf == kdfScrypt else { throw FormatError.invalid(what: what, reason: "unknown key derivation function \(kdf)") }
        let params = ScryptParameters(logN: try r.u8(), r: try r.u32(), p: try r.u32())
        guard (10...24).contains(params.logN), (1...64).contains(params.r), (1...64).contains(params.p) else {
            throw FormatError.invalid(what: what, reason: "scrypt parameters out of range")
        }
        let salt = try r.raw(32)
        let created = try r.i64()
        let host = try r.string(), user = try r.string()
        let sealed = try r.data()
        try r.expectEnd()
        guard sealed.count == 32 + SealFraming.overhead else { throw FormatError.invalid(what: what, reason: "wrapped key has wrong length") }
        return KeyFile(scrypt: params, salt: salt, createdNanos: created, host: host, user: user, sealedMasterKey: sealed)
    }
}

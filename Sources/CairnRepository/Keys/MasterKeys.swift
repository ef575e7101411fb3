import CLinuxShims
import CairnCrypto
import CairnFormat

/// The master key and the subkeys derived from it (format-spec/v1.md, "Keys").
public struct MasterKeys: Sendable {
    public let master: [UInt8]
    let blobRoot: [UInt8]
    let metadata: [UInt8]
    /// HMAC-SHA256 under `blobRoot` with its pad blocks precomputed: one blob key per blob read.
    let blobKeyer: HMACSHA256Key
    /// XORed into the chunker's gear table.
    public let chunkerSeed: UInt64

    public init(master: [UInt8]) {
        precondition(master.count == 32)
        self.master = master
        blobRoot = HMACSHA256.derive(key: master, label: KeyLabels.blobRoot)
        metadata = HMACSHA256.derive(key: master, label: KeyLabels.metadata)
        blobKeyer = HMACSHA256Key(key: blobRoot)
        let s = HMACSHA256.derive(key: master, label: KeyLabels.chunkerSeed)
        chunkerSeed = s.prefix(8).reversed().reduce(0) { $0 << 8 | UInt64($1) }
        Self.keepOutOfCoreDumps(master, blobRoot, metadata, keyer: blobKeyer)
    }

    /// Marks the pages holding the keys MADV_DONTDUMP: no core dump of any kind holds them
    /// (the process also turns core dumps off at startup; this covers systems that pipe or
    /// force them). Transient copies (a blob's key on the stack, OpenSSL's cipher contexts)
    /// are not covered: the disabled dumps are what protects those.
    private static func keepOutOfCoreDumps(_ keys: [UInt8]..., keyer: HMACSHA256Key) {
        for k in keys { k.withUnsafeBytes { _ = cairn_exclude_from_core_dumps($0.baseAddress, $0.count) } }
        // The precomputed HMAC pad states live in the object itself (two SHA-256 contexts).
        // (object header 16 bytes, two 112-byte SHA256_CTX).
        _ = cairn_exclude_from_core_dumps(Unmanaged.passUnretained(keyer).toOpaque(), 256)
    }

    public static func generate() throws -> MasterKeys { MasterKeys(master: try SecureRandom.bytes(32)) }

    /// The key that seals one blob: HMAC-SHA256(blobRoot, type ‖ id).
    func blobKey(type: BlobType, id: ChunkID) -> [UInt8] {
        HMACSHA256.mac(key: blobRoot, message: KeyLabels.blobKeyMessage(type: type, id: id))
    }

    /// Writes the same key as `blobKey(type:id:)` to `out` (32 bytes), from
    /// the precomputed HMAC state and without allocating.
    func blobKey(type: BlobType, id: ChunkID, into out: UnsafeMutableRawPointer) {
        withUnsafeTemporaryAllocation(byteCount: 33, alignment: 8) { m in
            m.baseAddress!.storeBytes(of: type.rawValue, as: UInt8.self)
            id.copyBytes(to: m.baseAddress! + 1)
            blobKeyer.mac(UnsafeRawBufferPointer(m), into: out)
        }
    }

    /// Seals a metadata object body with its envelope header as AAD.
    func sealObject(_ kind: ObjectKind, _ plaintext: [UInt8], version: UInt16 = ObjectEnvelope.formatVersion) throws -> [UInt8] {
        let header = ObjectEnvelope.header(kind, version: version)
        return header + (try AESGCM.seal(plaintext, key: metadata, aad: header))
    }

    /// The plaintext of an object of envelope version 1 (`config`: any version this code reads).
    func openObject(_ kind: ObjectKind, _ bytes: [UInt8]) throws -> [UInt8] {
        let body = try ObjectEnvelope.open(bytes, kind: kind)
        return try AESGCM.open(body, key: metadata, aad: Array(bytes[0..<ObjectEnvelope.headerLength]))
    }

    /// The envelope version and plaintext of an object of any version this code reads for `kind`.
    func openObjectVersioned(_ kind: ObjectKind, _ bytes: [UInt8]) throws -> (version: UInt16, plaintext: [UInt8]) {
        let (version, body) = try ObjectEnvelope.openVersioned(bytes, kind: kind)
        return (version, try AESGCM.open(body, key: metadata, aad: Array(bytes[0..<ObjectEnvelope.headerLength])))
    }
}

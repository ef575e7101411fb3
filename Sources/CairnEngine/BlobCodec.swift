import CairnCompression
import CairnCrypto
import CairnFormat

/// Encodes a chunk into a sealed blob and back, proving on the way back that
/// the plaintext hashes to the id it was asked for.
public struct BlobCodec: Sendable {
    let keys: MasterKeys
    /// zstd level; 0 stores blobs raw.
    public var level: Int32

    public init(keys: MasterKeys, level: Int32) { self.keys = keys; self.level = level }

    /// encoding byte ‖ payload, sealed. A compressed form is kept only when it
    /// is smaller than the raw one.
    public func seal(_ chunk: UnsafeRawBufferPointer, type: BlobType, id: ChunkID) throws -> [UInt8] {
        var plain: [UInt8]
        if level > 0, chunk.count > 64, let z = try? Zstd.shared.compress(chunk, level: level), z.count + 1 < chunk.count {
            plain = [BlobEncoding.zstd.rawValue]; plain.reserveCapacity(z.count + 1); plain += z
        } else {
            plain = [BlobEncoding.raw.rawValue]; plain.reserveCapacity(chunk.count + 1); plain += chunk
        }
        return try AESGCM.seal(plain, key: keys.blobKey(type: type, id: id), aad: KeyLabels.blobAAD(type: type, id: id))
    }

    public func seal(_ chunk: [UInt8], type: BlobType, id: ChunkID) throws -> [UInt8] {
        try chunk.withUnsafeBytes { try seal($0, type: type, id: id) }
    }

    /// Seals a data chunk as a delta against `base` when the delta is under
    /// 1/16 of the chunk, or else at least 10 % smaller than the chunk
    /// compressed alone (so a restore's extra read of the base buys
    /// something); else seals it whole. Returns the
    /// sealed blob and the base actually used.
    public func sealPreferringDelta(_ chunk: [UInt8], id: ChunkID, base: ChunkID, basePlaintext: [UInt8]) throws -> (sealed: [UInt8], base: ChunkID?) {
        guard level > 0, base != id else { return (try seal(chunk, type: .data, id: id), nil) }
        let delta = try chunk.withUnsafeBytes { c in
            try basePlaintext.withUnsafeBytes { b in try Zstd.shared.compress(c, level: level, dictionary: b) }
        }
        // A delta under 1/16 of the chunk wins without compressing the chunk alone
        // to compare (half the zstd work of a typical changed chunk); only a
        // larger one is weighed against the chunk compressed alone.
        if delta.count + 33 > chunk.count / 16 {
            let alone = try chunk.withUnsafeBytes { try Zstd.shared.compress($0, level: level) }
            let best = min(alone.count, chunk.count)
            guard delta.count + 33 < best - best / 10 else { return (try seal(chunk, type: .data, id: id), nil) }
        }
        var plain = [BlobEncoding.zstdDelta.rawValue]
        plain.reserveCapacity(33 + delta.count)
        plain += base.bytes
        plain += delta
        let sealed = try AESGCM.seal(plain, key: keys.blobKey(type: .data, id: id), aad: KeyLabels.blobAAD(type: .data, id: id, base: base))
        return (sealed, base)
    }

    /// Authenticates, decodes and checks the SHA-256; any failure is a
    /// `damaged` error naming the reason.
    /// - Parameter base: for a delta blob, the base chunk's id and verified plaintext.
    public func open(_ sealed: [UInt8], type: BlobType, id: ChunkID, rawLength: UInt32, base: (id: ChunkID, plaintext: [UInt8])? = nil) throws -> [UInt8] {
        let plain: [UInt8]
        do {
            plain = try AESGCM.open(sealed, key: keys.blobKey(type: type, id: id), aad: KeyLabels.blobAAD(type: type, id: id, base: base?.id))
        } catch {
            throw BlobDamage("authentication failed (altered bytes)")
        }
        guard let first = plain.first, let encoding = BlobEncoding(rawValue: first) else {
            throw BlobDamage("unknown blob encoding \(plain.first.map(String.init) ?? "none"): written by a newer cairn?")
        }
        let chunk: [UInt8]
        switch encoding {
        case .raw: chunk = Array(plain[1...])
        case .zstd:
            do { chunk = try plain.withUnsafeBytes { try Zstd.shared.decompress(UnsafeRawBufferPointer(rebasing: $0[1...]), limit: Int(rawLength)) } }
            catch { throw BlobDamage("decompression failed: \(error)") }
        case .zstdDelta:
            guard let base else { throw BlobDamage("delta-encoded blob without a base in its index entry") }
            guard plain.count >= 33, Array(plain[1..<33]) == base.id.bytes else {
                throw BlobDamage("delta blob names another base than its index entry")
            }
            do {
                chunk = try plain.withUnsafeBytes { p in
                    try base.plaintext.withUnsafeBytes { b in
                        try Zstd.shared.decompress(UnsafeRawBufferPointer(rebasing: p[33...]), limit: Int(rawLength), dictionary: b)
                    }
                }
            } catch { throw BlobDamage("delta decompression failed: \(error)") }
        }
        guard chunk.count == Int(rawLength) else { throw BlobDamage("length \(chunk.count) differs from the index's \(rawLength)") }
        guard SHA256.id(chunk) == id else { throw BlobDamage("SHA-256 of the content does not match the blob id") }
        return chunk
    }
}

/// Why a blob could not be proven good.
public struct BlobDamage: Error, CustomStringConvertible, Sendable {
    public let reason: String
    init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

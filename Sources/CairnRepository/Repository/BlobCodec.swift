import CairnCompression
import CairnCrypto
import CairnFormat

/// Encodes a chunk into a sealed blob and back, proving on the way back that
/// the plaintext hashes to the id it was asked for.
public struct BlobCodec: Sendable {
    let keys: Keyring
    /// zstd level; 0 stores blobs raw.
    public var level: Int32
    /// The largest blob of each type this codec opens: checked before anything is decrypted or decompressed.
    public let limits: BlobLimits

    public init(keys: Keyring, level: Int32, limits: BlobLimits = .unlimited) { self.keys = keys; self.level = level; self.limits = limits }

    /// A codec for a repository with one master key.
    public init(keys: MasterKeys, level: Int32, limits: BlobLimits = .unlimited) { self.init(keys: Keyring(single: keys), level: level, limits: limits) }

    /// encoding byte ‖ payload, sealed. A compressed form is kept only when it
    /// is smaller than the raw one.
    public func seal(_ chunk: UnsafeRawBufferPointer, type: BlobType, id: ChunkID) throws -> [UInt8] {
        let plain: [UInt8]
        if level > 0, chunk.count > 64, let z = try? Zstd.shared.compress(chunk, level: level), z.count + 1 < chunk.count {
            plain = BlobPlaintext.zstd(z)
        } else {
            plain = BlobPlaintext.raw(chunk)
        }
        return try AESGCM.seal(plain, key: keys.current.blobKey(type: type, id: id), aad: KeyLabels.blobAAD(type: type, id: id))
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
        // to compare (that compression was much of a changed chunk's zstd work:
        // Docs/performance.md, "Second pass"); only a larger one is weighed
        // against the chunk compressed alone.
        let deltaLength = BlobPlaintext.deltaPrefixLength + delta.count
        if deltaLength > chunk.count / 16 {
            let alone = try chunk.withUnsafeBytes { try Zstd.shared.compress($0, level: level) }
            let best = min(alone.count, chunk.count)
            guard deltaLength < best - best / 10 else { return (try seal(chunk, type: .data, id: id), nil) }
        }
        let plain = BlobPlaintext.delta(base: base, frame: delta)
        let sealed = try AESGCM.seal(plain, key: keys.current.blobKey(type: .data, id: id), aad: KeyLabels.blobAAD(type: .data, id: id, base: base))
        return (sealed, base)
    }

    /// Authenticates, decodes and checks the SHA-256; any failure is a
    /// `damaged` error naming the reason.
    /// - Parameter base: for a delta blob, the base chunk's id and verified plaintext.
    public func open(_ sealed: [UInt8], type: BlobType, id: ChunkID, rawLength: UInt32, base: (id: ChunkID, plaintext: [UInt8])? = nil) throws -> [UInt8] {
        try sealed.withUnsafeBytes { try open($0, type: type, id: id, rawLength: rawLength, base: base) }
    }

    /// `open` from borrowed bytes (a blob inside a larger read of its pack).
    ///
    /// Specialised for the restore path, where it runs once per chunk: the
    /// blob key and associated data are built on the stack, the encoding byte
    /// is decrypted on its own so that a raw blob decrypts straight into the
    /// returned array, and nothing is decompressed before the tag is verified.
    public func open(_ sealed: UnsafeRawBufferPointer, type: BlobType, id: ChunkID, rawLength: UInt32, base: (id: ChunkID, plaintext: [UInt8])? = nil) throws -> [UInt8] {
        try decode(sealed, type: type, id: id, rawLength: rawLength, base: base).chunk
    }

    /// `open`, also returning the blob's encoded plaintext (encoding byte ‖
    /// payload: the raw chunk, its zstd frame, or base id ‖ delta frame), so
    /// a copy can seal it for another repository as it is (`sealEncoded`).
    public func openKeepingEncoding(_ sealed: [UInt8], type: BlobType, id: ChunkID, rawLength: UInt32,
                                    base: (id: ChunkID, plaintext: [UInt8])? = nil) throws -> (chunk: [UInt8], encoded: [UInt8]) {
        try sealed.withUnsafeBytes { try openKeepingEncoding($0, type: type, id: id, rawLength: rawLength, base: base) }
    }

    /// `openKeepingEncoding` from borrowed bytes.
    public func openKeepingEncoding(_ sealed: UnsafeRawBufferPointer, type: BlobType, id: ChunkID, rawLength: UInt32,
                                    base: (id: ChunkID, plaintext: [UInt8])? = nil) throws -> (chunk: [UInt8], encoded: [UInt8]) {
        let d = try decode(sealed, type: type, id: id, rawLength: rawLength, base: base)
        return (d.chunk, BlobPlaintext.encoded(d.encoding, payload: d.payload))
    }

    /// Seals an encoded plaintext that `openKeepingEncoding` proved good in
    /// another repository, under this repository's keys: no recompression,
    /// and a delta stays a delta. `base` must be the base a delta names.
    public func sealEncoded(_ encoded: [UInt8], type: BlobType, id: ChunkID, base: ChunkID?) throws -> [UInt8] {
        let isDelta = encoded.first == BlobEncoding.zstdDelta.rawValue
        guard isDelta == (base != nil), BlobPlaintext.deltaBase(encoded: encoded) == base else {
            throw BlobDamage("encoded blob \(id.short) and its base \(base?.short ?? "none") disagree")
        }
        return try AESGCM.seal(encoded, key: keys.current.blobKey(type: type, id: id), aad: KeyLabels.blobAAD(type: type, id: id, base: base))
    }

    private func decode(_ sealed: UnsafeRawBufferPointer, type: BlobType, id: ChunkID, rawLength: UInt32,
                        base: (id: ChunkID, plaintext: [UInt8])?) throws -> (chunk: [UInt8], encoding: BlobEncoding, payload: [UInt8]) {
        if let why = limits.violation(type, rawLength: rawLength, storedLength: UInt64(sealed.count)) { throw BlobDamage(why) }
        let nonceLength = SealFraming.nonceLength
        guard sealed.count >= SealFraming.overhead else { throw BlobDamage("authentication failed (altered bytes)") }
        let n = sealed.count - SealFraming.overhead
        let body = UnsafeRawBufferPointer(rebasing: sealed[nonceLength..<(nonceLength + n)])
        let tag = UnsafeRawBufferPointer(rebasing: sealed[(nonceLength + n)...])
        var encodingByte: UInt8 = 0
        // For a raw blob the chunk itself; otherwise the compressed frame (after the base id for a delta).
        var payload: [UInt8] = []
        let prefix = KeyLabels.blobAADPrefix
        // Each master key of the keyring in turn (one, unless the repository's key was rotated),
        // the one that opened the previous blob first: the tag opens under exactly one.
        var opened = false
        let start = keys.firstBlobGeneration()
        for attempt in 0..<keys.generations.count {
            let g = Keyring.generation(attempt: attempt, start: start)
            do {
                try withUnsafeTemporaryAllocation(byteCount: 32 + prefix.count + 1 + 2 * ChunkID.byteCount, alignment: 8) { buf in
                    let key = buf.baseAddress!
                    keys.generations[g].keys.blobKey(type: type, id: id, into: key)
                    // AAD: prefix ‖ type ‖ id (‖ base id): KeyLabels.blobAAD without the arrays.
                    let aad = key + 32
                    prefix.withUnsafeBytes { aad.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
                    aad.storeBytes(of: type.rawValue, toByteOffset: prefix.count, as: UInt8.self)
                    id.copyBytes(to: aad + prefix.count + 1)
                    var aadCount = prefix.count + 1 + ChunkID.byteCount
                    if let base {
                        base.id.copyBytes(to: aad + aadCount)
                        aadCount += ChunkID.byteCount
                    }
                    try AESGCM.withDecryptor(key: UnsafeRawBufferPointer(start: key, count: 32),
                                             nonce: UnsafeRawBufferPointer(rebasing: sealed[0..<nonceLength]),
                                             aad: UnsafeRawBufferPointer(start: aad, count: aadCount)) { d in
                        if n > 0 {
                            try withUnsafeMutableBytes(of: &encodingByte) { try d.update(UnsafeRawBufferPointer(rebasing: body[0..<1]), into: $0.baseAddress) }
                            payload = try [UInt8](unsafeUninitializedCapacity: n - 1) { o, count in
                                try d.update(UnsafeRawBufferPointer(rebasing: body[1...]), into: UnsafeMutableRawPointer(o.baseAddress))
                                count = n - 1
                            }
                        }
                        try d.verify(tag: tag)
                    }
                }
                keys.noteBlobOpened(by: g)
                opened = true
                break
            } catch {
                continue
            }
        }
        guard opened else { throw BlobDamage("authentication failed (altered bytes)") }
        guard n > 0, let encoding = BlobEncoding(rawValue: encodingByte) else {
            throw BlobDamage("unknown blob encoding \(n > 0 ? String(encodingByte) : "none"): written by a newer cairn?")
        }
        let chunk: [UInt8]
        switch encoding {
        case .raw: chunk = payload
        case .zstd:
            do { chunk = try payload.withUnsafeBytes { try Zstd.shared.decompress($0, limit: Int(rawLength)) } }
            catch { throw BlobDamage("decompression failed: \(error)") }
        case .zstdDelta:
            guard let base else { throw BlobDamage("delta-encoded blob without a base in its index entry") }
            let named = payload.withUnsafeBytes { BlobPlaintext.splitDelta(payload: $0)?.base }
            guard named == base.id else { throw BlobDamage("delta blob names another base than its index entry") }
            do {
                chunk = try payload.withUnsafeBytes { p in
                    guard let frame = BlobPlaintext.splitDelta(payload: p)?.frame else { throw BlobDamage("delta blob without a frame") }
                    return try base.plaintext.withUnsafeBytes { b in
                        try Zstd.shared.decompress(frame, limit: Int(rawLength), dictionary: b)
                    }
                }
            } catch { throw BlobDamage("delta decompression failed: \(error)") }
        }
        guard chunk.count == Int(rawLength) else { throw BlobDamage("length \(chunk.count) differs from the index's \(rawLength)") }
        guard chunk.withUnsafeBytes({ SHA256.id($0) }) == id else { throw BlobDamage("SHA-256 of the content does not match the blob id") }
        return (chunk, encoding, payload)
    }
}

/// Why a blob could not be proven good.
public struct BlobDamage: Error, CustomStringConvertible, Sendable {
    public let reason: String
    init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

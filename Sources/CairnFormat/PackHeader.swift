/// One blob's entry in a pack header or an index delta.
public struct BlobEntry: Hashable, Sendable {
    public var type: BlobType
    public var id: ChunkID
    /// Byte offset of the sealed blob inside the pack.
    public var offset: UInt64
    /// Length of the sealed blob (nonce, ciphertext and tag).
    public var length: UInt32
    /// Length of the chunk plaintext, before compression.
    public var rawLength: UInt32
    /// For a delta-encoded data blob: the chunk it was compressed against
    /// (always a blob stored whole: chains are one level deep).
    public var base: ChunkID?

    public init(type: BlobType, id: ChunkID, offset: UInt64, length: UInt32, rawLength: UInt32, base: ChunkID? = nil) {
        self.type = type; self.id = id; self.offset = offset; self.length = length; self.rawLength = rawLength; self.base = base
    }

    /// The fewest bytes an entry takes: type, id and three one-byte varints.
    public static let minimumBytes = 1 + ChunkID.byteCount + 3

    /// Flag in the type byte: a 32-byte base id follows `rawLength`.
    static let hasBaseFlag: UInt8 = 0x80

    func encode(into w: inout ByteWriter) {
        w.u8(type.rawValue | (base == nil ? 0 : Self.hasBaseFlag))
        w.id(id); w.varint(offset); w.varint(UInt64(length)); w.varint(UInt64(rawLength))
        if let base { w.id(base) }
    }

    static func decode(from r: inout ByteReader, what: String) throws -> BlobEntry {
        let t = try r.u8()
        guard let type = BlobType(rawValue: t & ~hasBaseFlag) else { throw FormatError.invalid(what: what, reason: "unknown blob type \(t)") }
        let id = try r.id()
        let offset = try r.varint()
        // The local index keeps offsets as SQLite's signed 64-bit integers.
        guard offset <= UInt64(Int64.max) else { throw FormatError.invalid(what: what, reason: "blob offset out of range") }
        let length = try r.varint(), raw = try r.varint()
        guard length <= UInt64(UInt32.max), raw <= UInt64(UInt32.max) else {
            throw FormatError.invalid(what: what, reason: "blob length out of range")
        }
        var base: ChunkID? = nil
        if t & hasBaseFlag != 0 {
            guard type == .data else { throw FormatError.invalid(what: what, reason: "only data blobs may be delta-encoded") }
            base = try r.id()
        }
        return BlobEntry(type: type, id: id, offset: offset, length: UInt32(length), rawLength: UInt32(raw), base: base)
    }
}

/// The plaintext of a pack's header: the list of its blobs, in pack order.
///
/// A pack is `sealed blob 0 ‖ … ‖ sealed blob n-1 ‖ sealed header ‖ u32le(sealed header length)`.
/// The header makes every pack self-describing, so the index can be rebuilt
/// from the packs alone.
public struct PackHeader: Hashable, Sendable {
    public static let magic: [UInt8] = Array("CRNP".utf8)
    public static let version: UInt8 = 1
    public var type: PackType
    public var entries: [BlobEntry]

    public init(type: PackType, entries: [BlobEntry]) { self.type = type; self.entries = entries }

    public func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: 16 + entries.count * 44)
        w.raw(Self.magic); w.u8(Self.version); w.u8(type.rawValue); w.varint(entries.count)
        for e in entries { e.encode(into: &w) }
        return w.bytes
    }

    /// Decodes and checks that blobs are contiguous from offset 0 and end
    /// exactly where the header begins (`dataLength`; nil skips that last check).
    public static func decode(_ bytes: [UInt8], dataLength: UInt64?) throws -> PackHeader {
        let what = "pack header"
        var r = ByteReader(bytes, what: what)
        guard try r.raw(4) == magic else { throw FormatError.badMagic(what: what) }
        let v = try r.u8()
        guard v == version else { throw FormatError.unsupportedVersion(what: what, version: Int(v), supported: Int(version)) }
        let t = try r.u8()
        guard let type = PackType(rawValue: t) else { throw FormatError.invalid(what: what, reason: "unknown pack type \(t)") }
        let n = try r.count(elementsOfAtLeast: BlobEntry.minimumBytes)
        var entries: [BlobEntry] = []; entries.reserveCapacity(ByteReader.initialCapacity(n))
        var expected: UInt64 = 0
        for _ in 0..<n {
            let e = try BlobEntry.decode(from: &r, what: what)
            guard e.offset == expected else { throw FormatError.invalid(what: what, reason: "blob offsets are not contiguous") }
            guard e.type.packType == type else { throw FormatError.invalid(what: what, reason: "blob type does not match pack type") }
            expected += UInt64(e.length)
            entries.append(e)
        }
        try r.expectEnd()
        if let dataLength, expected != dataLength {
            throw FormatError.invalid(what: what, reason: "blobs cover \(expected) bytes, pack holds \(dataLength)")
        }
        return PackHeader(type: type, entries: entries)
    }
}

/// A file's or stream's content: its chunk ids in order, possibly through
/// levels of indirection so that no single blob grows with the input size.
///
/// At `level` 0 the ids are data chunks. At level k > 0 they are `list` blobs,
/// each holding an encoded `ContentRef` of level k-1. A 50 GB stream at 16 KiB
/// chunks is 3.2 M ids: two levels of 4096-id list blobs describe it in one id
/// list of 200 entries, and neither backup nor restore holds the whole list.
public struct ContentRef: Hashable, Sendable {
    /// The most ids one list blob (or an inline level-0 list) holds.
    public static let fanout = 4096
    public var level: UInt8
    public var ids: [ChunkID]

    public init(level: UInt8 = 0, ids: [ChunkID] = []) { self.level = level; self.ids = ids }

    public func encode(into w: inout ByteWriter) {
        w.u8(level); w.varint(ids.count); for id in ids { w.id(id) }
    }

    public static func decode(from r: inout ByteReader, what: String) throws -> ContentRef {
        let level = try r.u8()
        guard level <= 8 else { throw FormatError.invalid(what: what, reason: "content indirection level \(level) is too deep") }
        let n = try r.count(elementsOfAtLeast: ChunkID.byteCount)
        var ids: [ChunkID] = []; ids.reserveCapacity(ByteReader.initialCapacity(n))
        for _ in 0..<n { ids.append(try r.id()) }
        return ContentRef(level: level, ids: ids)
    }

    /// The plaintext of a `list` blob.
    public func encodedListBlob() -> [UInt8] {
        var w = ByteWriter(capacity: 8 + ids.count * 32); encode(into: &w); return w.bytes
    }

    public static func decodeListBlob(_ bytes: [UInt8]) throws -> ContentRef {
        var r = ByteReader(bytes, what: "chunk list blob")
        let ref = try decode(from: &r, what: "chunk list blob")
        try r.expectEnd()
        return ref
    }
}

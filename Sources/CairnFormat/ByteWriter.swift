/// Appends the primitive encodings of format v1: little-endian fixed-width
/// integers, unsigned LEB128 varints, and length-prefixed byte strings.
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 256) { bytes = []; bytes.reserveCapacity(capacity) }

    public mutating func u8(_ v: UInt8) { bytes.append(v) }
    public mutating func u16(_ v: UInt16) { for s in 0..<2 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * s))) } }
    public mutating func u32(_ v: UInt32) { for s in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * s))) } }
    public mutating func u64(_ v: UInt64) { for s in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * s))) } }
    public mutating func i64(_ v: Int64) { u64(UInt64(bitPattern: v)) }

    /// Unsigned LEB128: seven bits a byte, low first, high bit set on all but the last.
    public mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 { bytes.append(UInt8(v & 0x7f) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }
    public mutating func varint(_ v: Int) { varint(UInt64(v)) }

    public mutating func raw<C: Collection>(_ b: C) where C.Element == UInt8 { bytes.append(contentsOf: b) }
    /// varint length, then the bytes.
    public mutating func data<C: Collection>(_ b: C) where C.Element == UInt8 { varint(b.count); bytes.append(contentsOf: b) }
    /// varint length, then UTF-8 bytes.
    public mutating func string(_ s: String) { data(Array(s.utf8)) }
    public mutating func id<ID: SHA256Name>(_ id: ID) { raw(id.bytes) }
}

/// Reads what `ByteWriter` wrote; every read checks bounds and throws
/// `FormatError.truncated` instead of trapping on short input.
public struct ByteReader: Sendable {
    private let bytes: [UInt8]
    public private(set) var offset: Int
    private let what: String

    public init(_ bytes: [UInt8], what: String) { self.bytes = bytes; self.offset = 0; self.what = what }

    public var remaining: Int { bytes.count - offset }
    public var isAtEnd: Bool { offset >= bytes.count }

    private mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, n <= remaining else { throw FormatError.truncated(what: what) }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }

    public mutating func u8() throws -> UInt8 { try take(1).first! }
    public mutating func u16() throws -> UInt16 { try take(2).reversed().reduce(0) { $0 << 8 | UInt16($1) } }
    public mutating func u32() throws -> UInt32 { try take(4).reversed().reduce(0) { $0 << 8 | UInt32($1) } }
    public mutating func u64() throws -> UInt64 { try take(8).reversed().reduce(0) { $0 << 8 | UInt64($1) } }
    public mutating func i64() throws -> Int64 { Int64(bitPattern: try u64()) }

    /// Reads an unsigned LEB128 varint. Only the shortest encoding of a value
    /// is accepted (no trailing zero groups), and values above `UInt64.max`
    /// are rejected instead of losing their high bits, so every value has
    /// exactly one encoding and decoding then re-encoding is the identity.
    public mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        for shift in stride(from: 0, to: 64, by: 7) {
            let b = try u8()
            // The tenth byte (shift 63) may only contribute bit 63.
            guard shift < 63 || b <= 1 else {
                throw FormatError.invalid(what: what, reason: "varint exceeds 64 bits")
            }
            result |= UInt64(b & 0x7f) << UInt64(shift)
            if b & 0x80 == 0 {
                guard b != 0 || shift == 0 else {
                    throw FormatError.invalid(what: what, reason: "varint is not minimally encoded")
                }
                return result
            }
        }
        throw FormatError.invalid(what: what, reason: "varint longer than 10 bytes")
    }

    /// A varint that must fit in `Int` and not exceed `limit`.
    public mutating func count(max limit: Int = Int(Int32.max)) throws -> Int {
        let v = try varint()
        guard v <= UInt64(limit) else { throw FormatError.invalid(what: what, reason: "length \(v) exceeds \(limit)") }
        return Int(v)
    }

    /// A count of elements that each take at least `minimumBytes` of what is
    /// left: a count the remaining bytes cannot hold is refused before anything
    /// is allocated for it (format-spec §1).
    public mutating func count(elementsOfAtLeast minimumBytes: Int) throws -> Int {
        try count(max: remaining / max(minimumBytes, 1))
    }

    /// A count, then that many entries, each led by an id, in strictly increasing
    /// order of id (format 2's catalogues and merged records): the count is bounded
    /// by `minimumBytes` an entry takes, and any id out of order is refused.
    public mutating func idOrderedEntries<ID: SHA256Name, Entry>(elementsOfAtLeast minimumBytes: Int,
                                                                 _ rest: (ID, inout ByteReader) throws -> Entry) throws -> [Entry] {
        let n = try count(elementsOfAtLeast: minimumBytes)
        var entries: [Entry] = []
        entries.reserveCapacity(Self.initialCapacity(n))
        var previous: ID? = nil
        for _ in 0..<n {
            let id = try self.id(ID.self)
            if let previous, !(previous < id) {
                throw FormatError.invalid(what: what, reason: "entries are not in strictly increasing order of id")
            }
            previous = id
            entries.append(try rest(id, &self))
        }
        return entries
    }

    /// Capacity to reserve for `count` decoded elements: never more than a
    /// few pages' worth up front, so the memory a decoder takes grows with the
    /// elements it actually decodes, not with what a count claims.
    public static func initialCapacity(_ count: Int) -> Int { min(count, 1024) }

    public mutating func raw(_ n: Int) throws -> [UInt8] { Array(try take(n)) }
    public mutating func data() throws -> [UInt8] { try raw(try count(max: remaining)) }
    public mutating func string() throws -> String {
        let b = try data()
        guard let s = String(validating: b, as: UTF8.self) else {
            throw FormatError.invalid(what: what, reason: "string is not UTF-8")
        }
        return s
    }
    public mutating func id() throws -> ChunkID { ChunkID(bytes: try take(32))! }
    /// A 32-byte name of another kind (a pack's, a snapshot's).
    public mutating func id<ID: SHA256Name>(_ kind: ID.Type) throws -> ID { ID(bytes: try take(32))! }

    /// Fails unless every byte has been read: trailing bytes mean a corrupt object.
    public func expectEnd() throws {
        guard isAtEnd else { throw FormatError.invalid(what: what, reason: "\(remaining) unexpected trailing bytes") }
    }
}

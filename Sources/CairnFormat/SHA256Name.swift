/// What every 32-byte SHA-256 name in a repository shares: a blob's `ChunkID`
/// (the hash of its plaintext), a `PackID` (the hash of the pack's bytes) and a
/// `SnapshotID` (the hash of the sealed snapshot object). They are distinct
/// types because they are not interchangeable (a pack id looked up as a blob
/// id finds nothing, a snapshot id is no object in `data/`): the compiler
/// refuses one where another is meant, and a conversion is spelled out. On
/// disk each is the same 32 bytes, so the types change no format.
///
/// Held as four big-endian words so that hashing and equality are cheap;
/// `bytes` gives the 32 bytes in their natural order.
public protocol SHA256Name: Hashable, Sendable, Comparable, CustomStringConvertible {
    var w0: UInt64 { get }
    var w1: UInt64 { get }
    var w2: UInt64 { get }
    var w3: UInt64 { get }
    init(words w0: UInt64, _ w1: UInt64, _ w2: UInt64, _ w3: UInt64)
}

extension SHA256Name {
    public static var byteCount: Int { 32 }

    /// Creates a name from exactly 32 bytes; returns nil for any other length.
    @inlinable
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        guard bytes.count == 32 else { return nil }
        var words: [UInt64] = [0, 0, 0, 0]
        for (i, b) in bytes.enumerated() { words[i >> 3] = (words[i >> 3] << 8) | UInt64(b) }
        self.init(words: words[0], words[1], words[2], words[3])
    }

    /// Parses 64 hexadecimal characters.
    @inlinable
    public init?(hex: String) {
        guard let raw = Hex.decode(hex), raw.count == 32 else { return nil }
        self.init(bytes: raw)
    }

    /// The name whose bytes are the 32 bytes of `d`, read without an array.
    @inlinable
    public init(raw d: UnsafeRawBufferPointer) {
        precondition(d.count == 32)
        self.init(words: UInt64(bigEndian: d.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                  UInt64(bigEndian: d.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
                  UInt64(bigEndian: d.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
                  UInt64(bigEndian: d.loadUnaligned(fromByteOffset: 24, as: UInt64.self)))
    }

    /// The same 32 bytes as another kind of name: for the few places where one
    /// really is the other (a snapshot's object name is its id; a verified
    /// object's hash names it), never to make a type error go away.
    @inlinable
    public init<Other: SHA256Name>(reinterpreting other: Other) {
        self.init(words: other.w0, other.w1, other.w2, other.w3)
    }

    @inlinable
    public var bytes: [UInt8] {
        var out = [UInt8](); out.reserveCapacity(32)
        for w in [w0, w1, w2, w3] { for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: w >> UInt64(s))) } }
        return out
    }

    /// Writes the name's 32 bytes to `out` (the order of `bytes`), without an array.
    @inlinable
    public func copyBytes(to out: UnsafeMutableRawPointer) {
        out.storeBytes(of: w0.bigEndian, toByteOffset: 0, as: UInt64.self)
        out.storeBytes(of: w1.bigEndian, toByteOffset: 8, as: UInt64.self)
        out.storeBytes(of: w2.bigEndian, toByteOffset: 16, as: UInt64.self)
        out.storeBytes(of: w3.bigEndian, toByteOffset: 24, as: UInt64.self)
    }

    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }
    /// The first 8 hex digits: what people read in listings.
    public var short: String { String(hex.prefix(8)) }
    /// The first `digits` hex digits (listings and messages name objects by a prefix).
    public func prefix(_ digits: Int) -> Substring { hex.prefix(digits) }

    @inlinable
    public static func < (a: Self, b: Self) -> Bool {
        (a.w0, a.w1, a.w2, a.w3) < (b.w0, b.w1, b.w2, b.w3)
    }
}

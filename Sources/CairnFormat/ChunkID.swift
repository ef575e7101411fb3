/// The identity of a blob (a chunk of data, a tree or a list): the SHA-256 of
/// its plaintext. A pack and a snapshot have names of their own (`PackID`,
/// `SnapshotID`, see `SHA256Name`).
///
/// Held as four big-endian words so that hashing and equality are cheap in the
/// dedup set; `bytes` gives the 32 bytes in their natural order. Its members are
/// written out here rather than taken from `SHA256Name`: the dedup set and the
/// index load call them for every blob.
public struct ChunkID: SHA256Name {
    public static let byteCount = 32
    public var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    public init(words w0: UInt64, _ w1: UInt64, _ w2: UInt64, _ w3: UInt64) {
        self.w0 = w0; self.w1 = w1; self.w2 = w2; self.w3 = w3
    }

    /// Creates an id from exactly 32 bytes; returns nil for any other length.
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        guard bytes.count == Self.byteCount else { return nil }
        var words: [UInt64] = [0, 0, 0, 0]
        for (i, b) in bytes.enumerated() { words[i >> 3] = (words[i >> 3] << 8) | UInt64(b) }
        (w0, w1, w2, w3) = (words[0], words[1], words[2], words[3])
    }

    /// Parses 64 hexadecimal characters.
    public init?(hex: String) {
        guard let raw = Hex.decode(hex), let id = ChunkID(bytes: raw) else { return nil }
        self = id
    }

    public var bytes: [UInt8] {
        var out = [UInt8](); out.reserveCapacity(32)
        for w in [w0, w1, w2, w3] { for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: w >> UInt64(s))) } }
        return out
    }

    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }
    /// The first 8 hex digits: what people read in listings.
    public var short: String { String(hex.prefix(8)) }

    public static func < (a: ChunkID, b: ChunkID) -> Bool {
        (a.w0, a.w1, a.w2, a.w3) < (b.w0, b.w1, b.w2, b.w3)
    }
}

/// Lower-case hexadecimal encoding.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    public static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var out = [UInt8](); out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ s: String) -> [UInt8]? {
        let u = Array(s.utf8)
        guard u.count % 2 == 0 else { return nil }
        func nib(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: return nil
            }
        }
        var out = [UInt8](); out.reserveCapacity(u.count / 2)
        var i = 0
        while i < u.count {
            guard let h = nib(u[i]), let l = nib(u[i + 1]) else { return nil }
            out.append(h << 4 | l); i += 2
        }
        return out
    }
}

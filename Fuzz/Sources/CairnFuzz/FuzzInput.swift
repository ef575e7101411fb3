/// Carves parameters (a mode, a length, a piece size) off the front of a fuzz
/// input; reads past the end give zeros, so every input is usable.
struct FuzzInput {
    private(set) var rest: ArraySlice<UInt8>

    init(_ bytes: [UInt8]) { rest = bytes[...] }

    mutating func byte() -> UInt8 {
        guard let b = rest.first else { return 0 }
        rest = rest.dropFirst()
        return b
    }

    mutating func u16() -> UInt16 { UInt16(byte()) | UInt16(byte()) << 8 }
    mutating func u32() -> UInt32 { UInt32(u16()) | UInt32(u16()) << 16 }

    /// Up to `n` bytes.
    mutating func take(_ n: Int) -> [UInt8] {
        let out = Array(rest.prefix(n))
        rest = rest.dropFirst(out.count)
        return out
    }

    /// Everything left.
    mutating func remaining() -> [UInt8] {
        defer { rest = [] }
        return Array(rest)
    }
}

extension Array where Element == UInt8 {
    /// The bytes as text, the way the parsers of text inputs receive it.
    var text: String { String(decoding: self, as: UTF8.self) }
}

/// Little-endian bytes of `v`, for building seeds.
func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
func le16(_ v: UInt16) -> [UInt8] { [UInt8(truncatingIfNeeded: v), UInt8(truncatingIfNeeded: v >> 8)] }

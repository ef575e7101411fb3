/// Walks a listpack entry by entry with the checks of Redis's
/// `lpValidateIntegrity` in deep mode: the header's byte count, the
/// terminator, every entry's encoding and extent, each entry's back-length,
/// and (`finish`) the element count.
///
/// Layout: total bytes (u32 LE), element count (u16 LE, 65535 = unknown),
/// entries, 0xFF. An entry is its encoding (with the value), then its length
/// written backwards in 7-bit groups.
struct ListpackCursor {
    let bytes: [UInt8]
    private var position = 6
    private(set) var count = 0
    /// The element count in the header (65535: not recorded).
    let statedCount: Int
    private var ended = false

    /// Checks the header (as the non-deep validation does).
    init(_ bytes: [UInt8]) throws {
        self.bytes = bytes
        guard bytes.count >= 7 else { throw PayloadError("listpack of \(bytes.count) bytes is too short") }
        let total = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16 | Int(bytes[3]) << 24
        guard total == bytes.count else { throw PayloadError("listpack header says \(total) bytes, the string holds \(bytes.count)") }
        guard bytes[bytes.count - 1] == 0xFF else { throw PayloadError("listpack does not end with its 0xFF terminator") }
        statedCount = Int(bytes[4]) | Int(bytes[5]) << 8
    }

    /// The next element, or nil at the terminator (which must be the last byte).
    mutating func next() throws -> PackedElement? {
        guard !ended else { return nil }
        let last = bytes.count - 1
        let p = position
        let b = bytes[p]
        if b == 0xFF {
            guard p == last else { throw PayloadError("listpack terminator at byte \(p) of \(bytes.count)") }
            ended = true
            return nil
        }
        // How many bytes say the length, and the whole encoded size.
        let header: Int
        switch b {
        case 0x00...0x7F, 0x80...0xBF, 0xC0...0xDF, 0xF1...0xF4: header = 1
        case 0xE0...0xEF: header = 2
        case 0xF0: header = 5
        default: throw PayloadError("listpack entry at byte \(p) has an unknown encoding 0x\(String(b, radix: 16))")
        }
        guard p + header <= last else { throw PayloadError("listpack entry at byte \(p) runs past the end") }
        let size: Int, element: PackedElement
        func le(_ n: Int) -> UInt64 { (0..<n).reduce(UInt64(0)) { $0 | UInt64(bytes[p + 1 + $1]) << (8 * UInt64($1)) } }
        switch b {
        case 0x00...0x7F: size = 1; element = .integer(Int64(b))
        case 0x80...0xBF: size = 1 + Int(b & 0x3F); element = .string(p + 1..<p + size)
        case 0xC0...0xDF:
            size = 2
            guard p + 1 <= last else { throw PayloadError("listpack entry at byte \(p) runs past the end") }
            let u = Int64(b & 0x1F) << 8 | Int64(bytes[p + 1])
            element = .integer(u >= 1 << 12 ? u - (1 << 13) : u)
        case 0xE0...0xEF: size = 2 + (Int(b & 0x0F) << 8 | Int(bytes[p + 1])); element = .string(p + 2..<p + size)
        case 0xF0: size = 5 + Int(le(4)); element = .string(p + 5..<p + size)
        case 0xF1: size = 3; element = .integer(p + 3 <= last ? Int64(Int16(truncatingIfNeeded: le(2))) : 0)
        case 0xF2:
            size = 4
            let u = p + 4 <= last ? Int64(le(3)) : 0
            element = .integer(u >= 1 << 23 ? u - (1 << 24) : u)
        case 0xF3: size = 5; element = .integer(p + 5 <= last ? Int64(Int32(truncatingIfNeeded: le(4))) : 0)
        default: size = 9; element = .integer(p + 9 <= last ? Int64(bitPattern: le(8)) : 0)
        }
        let backlen = Self.backlenSize(size)
        guard p + size + backlen <= last else { throw PayloadError("listpack entry at byte \(p) (\(size + backlen) bytes) runs past the end") }
        // The back-length, read backwards from the entry's last byte as Redis does.
        var value: UInt64 = 0, shift: UInt64 = 0, q = p + size + backlen - 1
        while true {
            value |= UInt64(bytes[q] & 127) << shift
            if bytes[q] & 128 == 0 { break }
            shift += 7
            q -= 1
            guard shift <= 28, q >= 0 else { value = .max; break }
        }
        guard value == UInt64(size) else { throw PayloadError("listpack entry at byte \(p) has a back-length of \(value == .max ? "more than 5 bytes" : String(value)) instead of \(size)") }
        position = p + size + backlen
        count += 1
        return element
    }

    /// Walks to the end and checks the header's element count.
    mutating func finish() throws {
        while try next() != nil {}
        guard statedCount == 65535 || statedCount == count else {
            throw PayloadError("listpack header says \(statedCount) elements, it holds \(count)")
        }
    }

    /// Bytes of the back-length of an entry of `size` bytes (`lpEncodeBacklen`).
    static func backlenSize(_ size: Int) -> Int {
        size <= 127 ? 1 : size < 16383 ? 2 : size < 2_097_151 ? 3 : size < 268_435_455 ? 4 : 5
    }
}

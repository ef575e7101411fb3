/// Walks a ziplist (Redis < 7 lists, hashes and sorted sets) entry by entry
/// with the checks of Redis's `ziplistValidateIntegrity` in deep mode: the
/// header's byte count and tail offset, the terminator, every entry's
/// encoding, extent and previous-entry length, the tail pointing at the last
/// entry and (`finish`) the element count.
///
/// Layout: total bytes (u32 LE), tail offset (u32 LE), count (u16 LE, 65535 =
/// unknown), entries, 0xFF. An entry is the previous entry's length (1 byte,
/// or 0xFE and a u32 LE), the encoding (with a string's length), the data.
struct ZiplistCursor {
    let bytes: [UInt8]
    private var position = 10
    private var previousSize = 0
    private var previousStart: Int?
    private(set) var count = 0
    private let tail: Int
    private let statedCount: Int
    private var ended = false

    init(_ bytes: [UInt8]) throws {
        self.bytes = bytes
        guard bytes.count >= 11 else { throw PayloadError("ziplist of \(bytes.count) bytes is too short") }
        func le32(_ i: Int) -> Int { Int(bytes[i]) | Int(bytes[i + 1]) << 8 | Int(bytes[i + 2]) << 16 | Int(bytes[i + 3]) << 24 }
        guard le32(0) == bytes.count else { throw PayloadError("ziplist header says \(le32(0)) bytes, the string holds \(bytes.count)") }
        guard bytes[bytes.count - 1] == 0xFF else { throw PayloadError("ziplist does not end with its 0xFF terminator") }
        tail = le32(4)
        guard tail <= bytes.count - 1 else { throw PayloadError("ziplist tail offset \(tail) is past its end") }
        statedCount = Int(bytes[8]) | Int(bytes[9]) << 8
    }

    mutating func next() throws -> PackedElement? {
        guard !ended else { return nil }
        let last = bytes.count - 1, p = position
        if bytes[p] == 0xFF {
            guard p == last else { throw PayloadError("ziplist terminator at byte \(p) of \(bytes.count)") }
            if let s = previousStart, s != tail { throw PayloadError("ziplist tail offset \(tail) is not its last entry (at \(s))") }
            ended = true
            return nil
        }
        let prevSize = bytes[p] < 254 ? 1 : 5
        guard p + prevSize <= last else { throw PayloadError("ziplist entry at byte \(p) runs past the end") }
        let prevLength = prevSize == 1 ? Int(bytes[p]) : (1...4).reduce(0) { $0 | Int(bytes[p + $1]) << (8 * ($1 - 1)) }
        let e = p + prevSize, b = bytes[e]
        let lengthSize: Int
        switch b {
        case 0x00...0x3F, 0xC0, 0xD0, 0xE0, 0xF0...0xFE: lengthSize = 1
        case 0x40...0x7F: lengthSize = 2
        case 0x80...0xBF: lengthSize = 5
        default: throw PayloadError("ziplist entry at byte \(p) has an unknown encoding 0x\(String(b, radix: 16))")
        }
        guard e + lengthSize <= last else { throw PayloadError("ziplist entry at byte \(p) runs past the end") }
        let dataLength: Int
        switch b {
        case 0x00...0x3F: dataLength = Int(b & 0x3F)
        case 0x40...0x7F: dataLength = Int(b & 0x3F) << 8 | Int(bytes[e + 1])
        case 0x80...0xBF: dataLength = (1...4).reduce(0) { $0 << 8 | Int(bytes[e + $1]) }
        case 0xC0: dataLength = 2
        case 0xD0: dataLength = 4
        case 0xE0: dataLength = 8
        case 0xF0: dataLength = 3
        case 0xFE: dataLength = 1
        default: dataLength = 0   // 0xF1-0xFD: a 4-bit immediate
        }
        let data = e + lengthSize, size = prevSize + lengthSize + dataLength
        guard p + size <= last else { throw PayloadError("ziplist entry at byte \(p) (\(size) bytes) runs past the end") }
        guard p - prevLength >= 10 else { throw PayloadError("ziplist entry at byte \(p) says its predecessor has \(prevLength) bytes, before the first entry") }
        guard prevLength == previousSize else { throw PayloadError("ziplist entry at byte \(p) says its predecessor has \(prevLength) bytes, it has \(previousSize)") }
        func le(_ n: Int) -> UInt64 { (0..<n).reduce(UInt64(0)) { $0 | UInt64(bytes[data + $1]) << (8 * UInt64($1)) } }
        let element: PackedElement
        switch b {
        case 0x00...0xBF: element = .string(data..<data + dataLength)
        case 0xC0: element = .integer(Int64(Int16(truncatingIfNeeded: le(2))))
        case 0xD0: element = .integer(Int64(Int32(truncatingIfNeeded: le(4))))
        case 0xE0: element = .integer(Int64(bitPattern: le(8)))
        case 0xF0: let u = Int64(le(3)); element = .integer(u >= 1 << 23 ? u - (1 << 24) : u)
        case 0xFE: element = .integer(Int64(Int8(bitPattern: bytes[data])))
        default: element = .integer(Int64(b & 0x0F) - 1)
        }
        previousSize = size
        previousStart = p
        position = p + size
        count += 1
        return element
    }

    mutating func finish() throws {
        while try next() != nil {}
        guard statedCount == 65535 || statedCount == count else {
            throw PayloadError("ziplist header says \(statedCount) elements, it holds \(count)")
        }
    }
}

/// Why an RDB file or stream was refused. Every case names the byte offset
/// where the problem was found, so an operator can compare with
/// `redis-check-rdb`.
public enum RDBError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The first five bytes are not "REDIS".
    case badMagic
    /// The four version digits are not digits, or name a version this parser does not know.
    case unsupportedVersion(String)
    /// The input ended before the end-of-file opcode and checksum.
    case truncated(offset: UInt64)
    /// A field holds a value the format does not allow.
    case corrupt(offset: UInt64, reason: String)
    /// The CRC-64 trailer does not match the bytes.
    case checksumMismatch(stored: UInt64, computed: UInt64)
    /// Bytes follow the checksum.
    case trailingData(offset: UInt64)
    /// The byte source failed (socket or file error).
    case source(String)

    public var description: String {
        switch self {
        case .badMagic:
            return "not an RDB file: it does not start with \"REDIS\""
        case .unsupportedVersion(let v):
            return "RDB version \(v.debugDescription) is not supported (this cairn validates versions 1-\(RDBValidator.newestVersion)): upgrade cairn"
        case .truncated(let o):
            return "the RDB is truncated: it ends at byte \(o) before the end-of-file marker and checksum"
        case .corrupt(let o, let r):
            return "the RDB is corrupt at byte \(o): \(r)"
        case .checksumMismatch(let s, let c):
            return "the RDB checksum does not match (stored \(hex(s)), computed \(hex(c))): the data is corrupt"
        case .trailingData(let o):
            return "the RDB has unexpected bytes after its checksum, at byte \(o)"
        case .source(let m):
            return m
        }
    }

    private func hex(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 16 - s.count)) + s
    }
}

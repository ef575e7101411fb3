/// The recursive-descent walk behind `RDBValidator`.
struct RDBWalker<S: RDBByteSource> {
    var reader: RDBReader<S>
    var summary = RDBSummary()
    var version = 0
    /// The last plain string `decodedString` skipped for being too long: its length, first 8 bytes and last byte.
    var skippedPlain: (length: UInt64, prefix: [UInt8], last: UInt8?)?

    // Opcodes (rdb.h).
    static var opSlotInfo: UInt8 { 0xF4 }
    static var opFunction2: UInt8 { 0xF5 }
    static var opFunctionPreGA: UInt8 { 0xF6 }
    static var opModuleAux: UInt8 { 0xF7 }
    static var opIdle: UInt8 { 0xF8 }
    static var opFreq: UInt8 { 0xF9 }
    static var opAux: UInt8 { 0xFA }
    static var opResizeDB: UInt8 { 0xFB }
    static var opExpireMs: UInt8 { 0xFC }
    static var opExpireSec: UInt8 { 0xFD }
    static var opSelectDB: UInt8 { 0xFE }
    static var opEOF: UInt8 { 0xFF }

    init(reader: RDBReader<S>) { self.reader = reader }

    mutating func run() throws -> RDBSummary {
        try header()
        var db: UInt64 = 0
        var pendingExpiry = false
        while true {
            let at = reader.offset
            let op = try reader.byte()
            switch op {
            case Self.opEOF:
                guard !pendingExpiry else { throw corrupt(at, "end-of-file opcode right after an expiry time") }
                try trailer()
                return summary
            case Self.opSelectDB:
                db = try length()
                guard db < 1 << 20 else { throw corrupt(at, "database number \(db) is out of range") }
            case Self.opResizeDB:
                _ = try length(); _ = try length()
            case Self.opAux:
                let k = try smallString(), v = try smallString()
                summary.aux[k] = v
            case Self.opExpireMs:
                try reader.skip(8); pendingExpiry = true; summary.keysWithExpiry += 1; continue
            case Self.opExpireSec:
                try reader.skip(4); pendingExpiry = true; summary.keysWithExpiry += 1; continue
            case Self.opFreq:
                try reader.skip(1); continue
            case Self.opIdle:
                _ = try length(); continue
            case Self.opModuleAux:
                _ = try length() // module id
                let whenOpcode = try length()
                guard whenOpcode == 2 else { throw corrupt(at, "module aux field with opcode \(whenOpcode) instead of an unsigned integer") }
                _ = try length() // when
                try moduleValue()
            case Self.opFunction2:
                try skipString(); summary.functions += 1
            case Self.opFunctionPreGA:
                throw corrupt(at, "function library in the Redis 7.0 release-candidate format, which Redis itself no longer loads")
            case Self.opSlotInfo:
                _ = try length(); _ = try length(); _ = try length()
            default:
                try skipString() // the key
                try value(type: op, at: at)
                summary.keysPerDatabase[db, default: 0] += 1
                pendingExpiry = false
                continue
            }
            guard !pendingExpiry else { throw corrupt(at, "an expiry time is followed by opcode \(op) instead of a key") }
        }
    }

    // MARK: header and trailer

    mutating func header() throws {
        let magic: [UInt8]
        do { magic = try reader.bytes(5) } catch RDBError.truncated { throw RDBError.badMagic }
        guard magic == Array("REDIS".utf8) else { throw RDBError.badMagic }
        let digits = try reader.bytes(4)
        let text = String(decoding: digits, as: UTF8.self)
        guard digits.allSatisfy({ $0 >= 48 && $0 <= 57 }), let v = Int(text), v >= 1, v <= RDBValidator.newestVersion else {
            throw RDBError.unsupportedVersion(text)
        }
        version = v
        summary.version = v
    }

    mutating func trailer() throws {
        if version >= 5 {
            let computed = reader.checksum()
            let stored = try reader.uint64LE()
            summary.storedChecksum = stored
            if stored != 0 {
                guard stored == computed else { throw RDBError.checksumMismatch(stored: stored, computed: computed) }
                summary.checksumVerified = true
            }
        }
        summary.byteCount = reader.offset
        guard try reader.isAtEnd() else { throw RDBError.trailingData(offset: reader.offset) }
    }
}

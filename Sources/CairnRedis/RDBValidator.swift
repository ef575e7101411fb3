/// Checks an RDB from its magic to its CRC-64 trailer without loading it.
///
/// It walks the structure the way Redis's loader does — every opcode, every
/// length, every value type of RDB versions 1-12 — skipping the payload bytes,
/// so a 50 GB RDB needs one 256 KiB buffer. It fails on a wrong magic, an
/// unknown version, an unknown opcode or type, a length that runs past the
/// end, a checksum mismatch and bytes after the trailer. Encoded containers
/// (listpack, ziplist, intset) stored uncompressed get their header checked
/// too. The stored checksum 0 means the writer disabled checksums
/// (`rdbchecksum no`); the structure is still checked.
///
/// Pure: it reads only from the `RDBByteSource` it is given.
public enum RDBValidator {
    /// The newest RDB version this validator understands (Redis 7.4).
    public static let newestVersion = 12

    /// Validates the whole input; throws `RDBError` at the first problem.
    public static func validate<S: RDBByteSource>(_ source: S) throws -> RDBSummary {
        var walker = Walker(reader: RDBReader(source: source))
        return try walker.run()
    }

    /// Validates an in-memory RDB.
    public static func validate(bytes: [UInt8]) throws -> RDBSummary {
        try validate(ArrayByteSource(bytes))
    }
}

/// The recursive-descent walk behind `RDBValidator`.
struct Walker<S: RDBByteSource> {
    var reader: RDBReader<S>
    var summary = RDBSummary()
    var version = 0

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

    private mutating func header() throws {
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

    private mutating func trailer() throws {
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

    // MARK: primitives

    private func corrupt(_ at: UInt64, _ reason: String) -> RDBError { .corrupt(offset: at, reason: reason) }

    /// A length, or the special-encoding tag of a string.
    private mutating func lengthOrEncoding() throws -> (value: UInt64, encoded: Bool) {
        let at = reader.offset
        let b = try reader.byte()
        switch b >> 6 {
        case 0: return (UInt64(b & 0x3F), false)
        case 1: return ((UInt64(b & 0x3F) << 8) | UInt64(try reader.byte()), false)
        case 2:
            if b == 0x80 { return (UInt64(try reader.uint32BE()), false) }
            if b == 0x81 { return (try reader.uint64BE(), false) }
            throw corrupt(at, "unknown length encoding 0x\(String(b, radix: 16))")
        default: return (UInt64(b & 0x3F), true)
        }
    }

    private mutating func length() throws -> UInt64 {
        let at = reader.offset
        let (v, encoded) = try lengthOrEncoding()
        guard !encoded else { throw corrupt(at, "a string encoding where a length belongs") }
        return v
    }

    /// Skips one string; returns its stored length, first bytes and last byte, and whether it was LZF-compressed or an integer.
    @discardableResult
    private mutating func skipString(keep: Int = 0) throws -> (length: UInt64, prefix: [UInt8], last: UInt8?, plain: Bool) {
        let at = reader.offset
        let (v, encoded) = try lengthOrEncoding()
        guard encoded else {
            let (p, l) = try reader.skip(v, keep: keep)
            return (v, p, l, true)
        }
        switch v {
        case 0: try reader.skip(1)
        case 1: try reader.skip(2)
        case 2: try reader.skip(4)
        case 3:
            let compressed = try length(), original = try length()
            guard compressed > 0, original > 0 else { throw corrupt(at, "LZF string with zero length") }
            try reader.skip(compressed)
        default: throw corrupt(at, "unknown string encoding \(v)")
        }
        return (0, [], nil, false)
    }

    /// A short string (aux fields, names), cut to 256 bytes.
    private mutating func smallString() throws -> String {
        let at = reader.offset
        let (v, encoded) = try lengthOrEncoding()
        if encoded {
            switch v {
            case 0: return String(Int8(bitPattern: try reader.byte()))
            case 1: let b = try reader.bytes(2); return String(Int16(bitPattern: UInt16(b[0]) | UInt16(b[1]) << 8))
            case 2: return String(Int32(bitPattern: try reader.uint32LE()))
            case 3:
                let compressed = try length(); _ = try length()
                try reader.skip(compressed)
                return "(compressed)"
            default: throw corrupt(at, "unknown string encoding \(v)")
            }
        }
        let (p, _) = try reader.skip(v, keep: 256)
        return String(decoding: p, as: UTF8.self)
    }

    /// A zset score in the old text form: one length byte, 253-255 for nan/+inf/-inf.
    private mutating func textDouble() throws {
        let n = try reader.byte()
        if n < 253 { try reader.skip(UInt64(n)) }
    }

    // MARK: values

    private mutating func value(type: UInt8, at: UInt64) throws {
        switch type {
        case 0: try skipString()
        case 1, 2:
            let n = try length()
            for _ in 0..<n { try skipString() }
        case 3:
            let n = try length()
            for _ in 0..<n { try skipString(); try textDouble() }
        case 4:
            let n = try length()
            for _ in 0..<n { try skipString(); try skipString() }
        case 5:
            let n = try length()
            for _ in 0..<n { try skipString(); try reader.skip(8) }
        case 6:
            throw corrupt(at, "module value in the Redis 4.0 release-candidate format")
        case 7:
            _ = try length() // module id
            try moduleValue()
        case 9: try skipString() // zipmap
        case 10, 12, 13: try container(kind: .ziplist, at: at)
        case 11: try container(kind: .intset, at: at)
        case 14:
            let n = try length()
            for _ in 0..<n { try container(kind: .ziplist, at: reader.offset) }
        case 16, 17, 20: try container(kind: .listpack, at: at)
        case 18:
            let n = try length()
            for _ in 0..<n {
                let nodeAt = reader.offset
                let kind = try length()
                switch kind {
                case 1: try skipString() // a plain node: one large element
                case 2: try container(kind: .listpack, at: nodeAt)
                default: throw corrupt(nodeAt, "quicklist node container \(kind) is neither plain (1) nor packed (2)")
                }
            }
        case 15, 19, 21: try stream(type: type)
        case 22, 24:
            if type == 24 { try reader.skip(8) } // minimum expiry
            let n = try length()
            for _ in 0..<n { _ = try length(); try skipString(); try skipString() }
        case 23, 25:
            if type == 25 { try reader.skip(8) }
            try container(kind: .listpack, at: at)
        default:
            throw corrupt(at, "unknown value type \(type) (RDB version \(version))")
        }
    }

    enum Container { case ziplist, listpack, intset }

    /// An encoded container stored as one string. Uncompressed ones get their header checked.
    private mutating func container(kind: Container, at: UInt64) throws {
        let s = try skipString(keep: 8)
        guard s.plain else { return }
        let p = s.prefix
        func le32(_ i: Int) -> UInt64 { UInt64(p[i]) | UInt64(p[i + 1]) << 8 | UInt64(p[i + 2]) << 16 | UInt64(p[i + 3]) << 24 }
        switch kind {
        case .ziplist, .listpack:
            let minimum = kind == .ziplist ? 11 : 7
            guard s.length >= UInt64(minimum), p.count >= 4 else { throw corrupt(at, "\(kind) of \(s.length) bytes is too short") }
            guard le32(0) == s.length else { throw corrupt(at, "\(kind) header says \(le32(0)) bytes, the string holds \(s.length)") }
            guard s.last == 0xFF else { throw corrupt(at, "\(kind) does not end with its 0xFF terminator") }
        case .intset:
            guard p.count >= 8 else { throw corrupt(at, "intset of \(s.length) bytes is too short") }
            let width = le32(0), count = le32(4)
            guard width == 2 || width == 4 || width == 8 else { throw corrupt(at, "intset element width \(width)") }
            guard 8 + width * count == s.length else { throw corrupt(at, "intset of \(count) × \(width) bytes in a \(s.length)-byte string") }
        }
    }

    /// A module value (type 7, or module aux data) in the self-describing form, to its EOF opcode.
    private mutating func moduleValue() throws {
        while true {
            let at = reader.offset
            let op = try length()
            switch op {
            case 0: return
            case 1, 2: _ = try length()
            case 3: try reader.skip(4)
            case 4: try reader.skip(8)
            case 5: try skipString()
            default: throw corrupt(at, "unknown module value opcode \(op)")
            }
        }
    }

    /// A stream: listpacks of entries, metadata, consumer groups with their pending entries.
    private mutating func stream(type: UInt8) throws {
        let nodes = try length()
        for _ in 0..<nodes {
            let at = reader.offset
            let key = try skipString()
            guard !key.plain || key.length == 16 else { throw corrupt(at, "stream node key of \(key.length) bytes instead of 16") }
            try container(kind: .listpack, at: reader.offset)
        }
        _ = try length() // entries
        _ = try length(); _ = try length() // last id
        if type >= 19 {
            _ = try length(); _ = try length() // first id
            _ = try length(); _ = try length() // max deleted id
            _ = try length() // entries added
        }
        let groups = try length()
        for _ in 0..<groups {
            try skipString() // group name
            _ = try length(); _ = try length() // last delivered id
            if type >= 19 { _ = try length() } // entries read
            let pending = try length()
            for _ in 0..<pending {
                try reader.skip(16) // entry id
                try reader.skip(8) // delivery time
                _ = try length() // delivery count
            }
            let consumers = try length()
            for _ in 0..<consumers {
                try skipString() // consumer name
                try reader.skip(8) // seen time
                if type >= 21 { try reader.skip(8) } // active time
                let ownedAt = reader.offset
                let owned = try length()
                let (bytes, overflow) = owned.multipliedReportingOverflow(by: 16)
                guard !overflow else { throw corrupt(ownedAt, "consumer owns \(owned) pending entries") }
                try reader.skip(bytes)
            }
        }
    }
}

/// Checks an RDB from its magic to its CRC-64 trailer without loading it.
///
/// It walks the structure the way Redis's loader does — every opcode, every
/// length, every value type of RDB versions 1-12 — and makes the payload
/// checks `redis-check-rdb` makes (it loads with deep sanitisation): LZF data
/// that decompresses to exactly its stated length, listpacks, ziplists and
/// intsets entry by entry, no duplicate members in sets, hashes and sorted
/// sets, no NaN scores, no empty keys, stream listpacks and consumer groups
/// whose pending entries each belong to one consumer. It fails on a wrong
/// magic, an unknown version, opcode or type, a length that runs past the end,
/// a checksum mismatch and bytes after the trailer. The stored checksum 0 means
/// the writer disabled checksums (`rdbchecksum no`); then these checks are all
/// that vouch for the bytes.
///
/// Memory stays bounded: plain strings stream through one 256 KiB buffer;
/// containers and members are decoded up to `decodeLimit` (8 MiB) and
/// collections remember at most 2 Mi member fingerprints; what is larger is
/// counted in `RDBSummary.uncheckedValues`.
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
    /// The last plain string `decodedString` skipped for being too long: its length, first 8 bytes and last byte.
    private var skippedPlain: (length: UInt64, prefix: [UInt8], last: UInt8?)?

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

    /// Skips one string, checking LZF data on the way; returns its stored length, first bytes and last byte, and whether it was stored plain.
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
        case 3: try streamLZF(at: at)
        default: throw corrupt(at, "unknown string encoding \(v)")
        }
        return (0, [], nil, false)
    }

    /// Follows an LZF string's control bytes without keeping its output: Redis
    /// refuses one whose back-references point before the start or whose
    /// output is not exactly its stated length.
    private mutating func streamLZF(at: UInt64) throws {
        let compressed = try length(), original = try length()
        guard compressed > 0, original > 0 else { throw corrupt(at, "LZF string with zero length") }
        do {
            _ = try LZF.walk(compressed: compressed, stated: original, next: { try reader.byte() },
                             literal: { n, _ in try reader.skip(UInt64(n)) }, reference: { _, _, _ in })
        } catch let e as PayloadError {
            throw corrupt(at, e.reason)
        }
    }

    /// One string decoded as Redis loads it (LZF expanded, integers as decimal
    /// text) when it decodes to at most `limit` bytes; longer ones are checked,
    /// skipped and returned as nil.
    private mutating func decodedString(limit: Int) throws -> [UInt8]? {
        let at = reader.offset
        let (v, encoded) = try lengthOrEncoding()
        if !encoded {
            guard v <= UInt64(limit) else {
                let (p, l) = try reader.skip(v, keep: 8)
                skippedPlain = (v, p, l)
                return nil
            }
            return try reader.bytes(Int(v))
        }
        switch v {
        case 0: return Array(String(Int8(bitPattern: try reader.byte())).utf8)
        case 1: let b = try reader.bytes(2); return Array(String(Int16(bitPattern: UInt16(b[0]) | UInt16(b[1]) << 8)).utf8)
        case 2: return Array(String(Int32(bitPattern: try reader.uint32LE())).utf8)
        case 3:
            let compressed = try length(), original = try length()
            guard compressed > 0, original > 0 else { throw corrupt(at, "LZF string with zero length") }
            guard original <= UInt64(limit), compressed <= UInt64(limit) + 64 else {
                do {
                    _ = try LZF.walk(compressed: compressed, stated: original, next: { try reader.byte() },
                                     literal: { n, _ in try reader.skip(UInt64(n)) }, reference: { _, _, _ in })
                } catch let e as PayloadError { throw corrupt(at, e.reason) }
                return nil
            }
            let input = try reader.bytes(Int(compressed))
            do { return try LZF.decompress(input, stated: Int(original)) } catch let e as PayloadError { throw corrupt(at, e.reason) }
        default: throw corrupt(at, "unknown string encoding \(v)")
        }
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
                try streamLZF(at: at)
                return "(compressed)"
            default: throw corrupt(at, "unknown string encoding \(v)")
            }
        }
        let (p, _) = try reader.skip(v, keep: 256)
        return String(decoding: p, as: UTF8.self)
    }

    /// A zset score in the old text form: one length byte, 253-255 for nan/+inf/-inf,
    /// else text Redis reads with sscanf("%lg"). A NaN score is refused, as Redis does.
    private mutating func textDouble(at: UInt64) throws {
        let n = try reader.byte()
        switch n {
        case 253: throw corrupt(at, "sorted set member with a NaN score")
        case 254, 255: return
        default:
            let text = try reader.bytes(Int(n))
            var i = 0
            while i < text.count, text[i] == 32 || (9...13).contains(text[i]) { i += 1 }
            if i < text.count, text[i] == UInt8(ascii: "+") || text[i] == UInt8(ascii: "-") { i += 1 }
            let rest = String(decoding: text[i...].prefix(3), as: UTF8.self).lowercased()
            if rest == "nan" { throw corrupt(at, "sorted set member with a NaN score") }
            let digit = i < text.count && text[i] >= 48 && text[i] <= 57
            let dotDigit = i + 1 < text.count && text[i] == UInt8(ascii: ".") && text[i + 1] >= 48 && text[i + 1] <= 57
            guard digit || dotDigit || rest == "inf" else { throw corrupt(at, "sorted set score \(String(decoding: text, as: UTF8.self).debugDescription) is not a number") }
        }
    }

    /// A zset score in the binary form (RDB 8+): a little-endian IEEE double; NaN is refused.
    private mutating func binaryDouble(at: UInt64) throws {
        let bits = try reader.uint64LE()
        guard !Double(bitPattern: bits).isNaN else { throw corrupt(at, "sorted set member with a NaN score") }
    }

    // MARK: values

    /// Largest string decoded in memory to check its contents (an encoded
    /// container, a member compared for duplicates). Redis writes listpacks of
    /// a few KiB; larger ones are checked only as far as the RDB framing goes
    /// and counted in `RDBSummary.uncheckedValues`.
    static var decodeLimit: Int { 8 << 20 }

    private func empty(_ at: UInt64, _ what: String) -> RDBError {
        corrupt(at, "empty \(what), which Redis never writes")
    }

    /// A member of a set, hash or sorted set, refused when the collection already has it.
    private mutating func member(_ members: inout MemberSet, at: UInt64, what: String) throws {
        let memberAt = reader.offset
        guard let m = try decodedString(limit: Self.decodeLimit) else { members.giveUp(); return }
        guard members.insert(m[...]) else { throw corrupt(memberAt, "\(what) \(preview(m[...])) appears twice") }
    }

    /// Counts a collection whose duplicate check could not complete.
    private mutating func account(_ members: MemberSet) {
        if members.overflowed { summary.uncheckedValues += 1 }
    }

    /// The first RDB version whose writer can emit each value type (Redis's rdb.h). A real
    /// server writes only types its own version knows, so a newer type in an older file is a
    /// damaged type byte (redis-check-rdb of that version refuses it too).
    static func firstVersion(ofType type: UInt8) -> Int {
        switch type {
        case 5, 6, 7: return 8          // Redis 4.0: binary-double sorted sets, modules
        case 14: return 7               // Redis 3.2: quicklist
        case 15: return 9               // Redis 5.0: streams
        case 16, 17, 18, 19: return 10  // Redis 7.0: listpacks
        case 20, 21: return 11          // Redis 7.2: set listpacks, streams v3
        case 22, 23, 24, 25: return 12  // Redis 7.4: hash field expiry
        default: return 1
        }
    }

    private mutating func value(type: UInt8, at: UInt64) throws {
        if version < Self.firstVersion(ofType: type) {
            throw corrupt(at, "value type \(type) does not exist in RDB version \(version) (first in version \(Self.firstVersion(ofType: type)))")
        }
        switch type {
        case 0: try skipString()
        case 1:
            let n = try length()
            guard n > 0 else { throw empty(at, "list") }
            for _ in 0..<n { try skipString() }
        case 2:
            let n = try length()
            guard n > 0 else { throw empty(at, "set") }
            var members = MemberSet()
            for _ in 0..<n { try member(&members, at: at, what: "set member") }
            account(members)
        case 3, 5:
            let n = try length()
            guard n > 0 else { throw empty(at, "sorted set") }
            var members = MemberSet()
            for _ in 0..<n {
                try member(&members, at: at, what: "sorted set member")
                let scoreAt = reader.offset
                if type == 5 { try binaryDouble(at: scoreAt) } else { try textDouble(at: scoreAt) }
            }
            account(members)
        case 4:
            let n = try length()
            guard n > 0 else { throw empty(at, "hash") }
            var members = MemberSet()
            for _ in 0..<n { try member(&members, at: at, what: "hash field"); try skipString() }
            account(members)
        case 6:
            throw corrupt(at, "module value in the Redis 4.0 release-candidate format")
        case 7:
            _ = try length() // module id
            try moduleValue()
        case 9:
            if let b = try blob(kind: .zipmap, at: at) {
                do { _ = try ZipmapCheck.validate(b) } catch let e as PayloadError { throw corrupt(at, e.reason) }
            }
        case 10:
            if let b = try blob(kind: .ziplist, at: at), try packed(b, ziplist: true, tuple: 0, at: at, what: "list") == 0 { throw empty(at, "list") }
        case 11:
            if let b = try blob(kind: .intset, at: at) {
                do { _ = try IntsetCheck.validate(b) } catch let e as PayloadError { throw corrupt(at, e.reason) }
            }
        case 12:
            if let b = try blob(kind: .ziplist, at: at), try packed(b, ziplist: true, tuple: 2, at: at, what: "sorted set member") == 0 { throw empty(at, "sorted set") }
        case 13:
            if let b = try blob(kind: .ziplist, at: at), try packed(b, ziplist: true, tuple: 2, at: at, what: "hash field") == 0 { throw empty(at, "hash") }
        case 14, 18:
            let n = try length()
            guard n > 0 else { throw empty(at, "list") }
            var elements = 0, unchecked = false
            for _ in 0..<n {
                let nodeAt = reader.offset
                let kind = type == 14 ? 2 : try length()
                switch kind {
                case 1: // a plain node: one large element
                    let s = try skipString()
                    guard !s.plain || s.length > 0 else { throw corrupt(nodeAt, "empty plain quicklist node") }
                    elements += 1
                case 2:
                    if let b = try blob(kind: type == 14 ? .ziplist : .listpack, at: nodeAt) {
                        elements += try packed(b, ziplist: type == 14, tuple: 0, at: nodeAt, what: "list element")
                    } else { unchecked = true }
                default: throw corrupt(nodeAt, "quicklist node container \(kind) is neither plain (1) nor packed (2)")
                }
            }
            guard elements > 0 || unchecked else { throw empty(at, "list") }
        case 16:
            if let b = try blob(kind: .listpack, at: at), try packed(b, ziplist: false, tuple: 2, at: at, what: "hash field") == 0 { throw empty(at, "hash") }
        case 17:
            if let b = try blob(kind: .listpack, at: at), try packed(b, ziplist: false, tuple: 2, at: at, what: "sorted set member") == 0 { throw empty(at, "sorted set") }
        case 20:
            if let b = try blob(kind: .listpack, at: at), try packed(b, ziplist: false, tuple: 1, at: at, what: "set member") == 0 { throw empty(at, "set") }
        case 15, 19, 21: try stream(type: type, at: at)
        case 22, 24:
            if type == 24 { try reader.skip(8) } // minimum expiry
            let n = try length()
            guard n > 0 else { throw empty(at, "hash") }
            var members = MemberSet()
            for _ in 0..<n { _ = try length(); try member(&members, at: at, what: "hash field"); try skipString() }
            account(members)
        case 23, 25:
            if type == 25 { try reader.skip(8) }
            if let b = try blob(kind: .listpack, at: at), try packed(b, ziplist: false, tuple: 3, at: at, what: "hash field") == 0 { throw empty(at, "hash") }
        default:
            throw corrupt(at, "unknown value type \(type) (RDB version \(version))")
        }
    }

    enum Container { case ziplist, listpack, intset, zipmap }

    /// An encoded container, decoded when it fits `decodeLimit`. A larger one
    /// gets its header checked (when stored plain), is counted as unchecked and
    /// returns nil.
    private mutating func blob(kind: Container, at: UInt64) throws -> [UInt8]? {
        skippedPlain = nil
        if let b = try decodedString(limit: Self.decodeLimit) { return b }
        summary.uncheckedValues += 1
        guard let s = skippedPlain else { return nil }
        let p = s.prefix
        func le32(_ i: Int) -> UInt64 { UInt64(p[i]) | UInt64(p[i + 1]) << 8 | UInt64(p[i + 2]) << 16 | UInt64(p[i + 3]) << 24 }
        switch kind {
        case .ziplist, .listpack:
            guard p.count >= 4, le32(0) == s.length else { throw corrupt(at, "\(kind) header does not match its \(s.length) bytes") }
            guard s.last == 0xFF else { throw corrupt(at, "\(kind) does not end with its 0xFF terminator") }
        case .intset:
            let width = le32(0), count = le32(4)
            guard width == 2 || width == 4 || width == 8 else { throw corrupt(at, "intset element width \(width)") }
            guard 8 + width * count == s.length else { throw corrupt(at, "intset of \(count) × \(width) bytes in a \(s.length)-byte string") }
        case .zipmap:
            guard s.last == 0xFF else { throw corrupt(at, "zipmap does not end with its 0xFF terminator") }
        }
        return nil
    }

    /// Walks a listpack or ziplist entry by entry. With `tuple` > 0 (1: set, 2:
    /// field and value, 3: field, value and expiry time) the first element of
    /// each tuple must be unique and the count a multiple of `tuple`. Returns
    /// the element count.
    private mutating func packed(_ b: [UInt8], ziplist: Bool, tuple: Int, at: UInt64, what: String) throws -> Int {
        var members = MemberSet()
        var index = 0
        var lastExpiry: Int64 = -1
        func visit(_ e: PackedElement) throws {
            if tuple > 0 && index % tuple == 0 {
                let m = e.bytes(in: b)
                guard members.insert(m) else { throw PayloadError("\(what) \(preview(m)) appears twice") }
            }
            if tuple == 3 && index % 3 == 2 {
                guard let t = e.integer(in: b), t >= 0, t <= (1 << 48) - 1 else { throw PayloadError("field expiry time is not a time") }
                if t != 0 && (lastExpiry == 0 || t < lastExpiry) { throw PayloadError("field expiry times are out of order") }
                lastExpiry = t
            }
            index += 1
        }
        do {
            if ziplist {
                var c = try ZiplistCursor(b)
                while let e = try c.next() { try visit(e) }
                try c.finish()
            } else {
                var c = try ListpackCursor(b)
                while let e = try c.next() { try visit(e) }
                try c.finish()
            }
            if tuple > 1 && index % tuple != 0 {
                throw PayloadError("\(ziplist ? "ziplist" : "listpack") holds \(index) elements, not a multiple of \(tuple)")
            }
        } catch let e as PayloadError {
            throw corrupt(at, e.reason)
        }
        account(members)
        return index
    }

    /// A member for a message: at most 40 bytes, anything but printable ASCII as \xNN.
    private func preview(_ m: ArraySlice<UInt8>) -> String {
        var s = "\""
        for b in m.prefix(40) {
            if b >= 32 && b < 127 && b != 34 && b != 92 { s.unicodeScalars.append(Unicode.Scalar(b)) } else {
                s += "\\x" + (b < 16 ? "0" : "") + String(b, radix: 16)
            }
        }
        return s + (m.count > 40 ? "…\"" : "\"")
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

    /// A stream: listpacks of entries, metadata, consumer groups with their
    /// pending entries, checked as Redis's loader does in deep mode.
    private mutating func stream(type: UInt8, at: UInt64) throws {
        let nodes = try length()
        var nodeKeys = MemberSet()
        for _ in 0..<nodes {
            let keyAt = reader.offset
            guard let key = try decodedString(limit: 16), key.count == 16 else { throw corrupt(keyAt, "stream node key is not a 16-byte stream ID") }
            guard nodeKeys.insert(key[...]) else { throw corrupt(keyAt, "stream node \(StreamID(key)) appears twice") }
            let listpackAt = reader.offset
            if let lp = try blob(kind: .listpack, at: listpackAt) {
                do { try StreamListpackCheck.validate(lp) } catch let e as PayloadError { throw corrupt(listpackAt, e.reason) }
            }
        }
        account(nodeKeys)
        let entries = try length()
        _ = try length(); _ = try length() // last id
        if type >= 19 {
            _ = try length(); _ = try length() // first id
            _ = try length(); _ = try length() // max deleted id
            _ = try length() // entries added
        }
        guard entries == 0 || nodes > 0 else { throw corrupt(at, "stream of \(entries) entries has no nodes") }
        let groups = try length()
        var groupNames = MemberSet()
        for _ in 0..<groups {
            let groupAt = reader.offset
            let name = try decodedString(limit: Self.decodeLimit)
            let label = name.map { preview($0[...]) } ?? "(long name)"
            if let name { guard groupNames.insert(name[...]) else { throw corrupt(groupAt, "consumer group \(label) appears twice") } } else { groupNames.giveUp() }
            _ = try length(); _ = try length() // last delivered id
            if type >= 19 { _ = try length() } // entries read
            // The group's pending entries, each to be claimed by one of its consumers.
            var pending: [StreamID: Bool] = [:]
            var tracking = true
            let pendingCount = try length()
            for _ in 0..<pendingCount {
                let idAt = reader.offset
                let id = StreamID(try reader.bytes(16))
                try reader.skip(8) // delivery time
                _ = try length() // delivery count
                guard tracking else { continue }
                if pending.count >= MemberSet.defaultLimit { tracking = false; pending = [:]; summary.uncheckedValues += 1; continue }
                guard pending.updateValue(false, forKey: id) == nil else { throw corrupt(idAt, "pending entry \(id) of consumer group \(label) is listed twice") }
            }
            let consumers = try length()
            var consumerNames = MemberSet()
            for _ in 0..<consumers {
                let consumerAt = reader.offset
                let cname = try decodedString(limit: Self.decodeLimit)
                let clabel = cname.map { preview($0[...]) } ?? "(long name)"
                if let cname { guard consumerNames.insert(cname[...]) else { throw corrupt(consumerAt, "consumer \(clabel) of group \(label) appears twice") } } else { consumerNames.giveUp() }
                try reader.skip(8) // seen time
                if type >= 21 { try reader.skip(8) } // active time
                let owned = try length()
                var ownedIDs = Set<StreamID>()
                for _ in 0..<owned {
                    let idAt = reader.offset
                    let id = StreamID(try reader.bytes(16))
                    guard tracking else { continue }
                    guard pending[id] != nil else { throw corrupt(idAt, "consumer \(clabel) owns pending entry \(id), which group \(label) does not list") }
                    pending[id] = true
                    guard ownedIDs.insert(id).inserted else { throw corrupt(idAt, "consumer \(clabel) owns pending entry \(id) twice") }
                }
            }
            account(consumerNames)
            if tracking, let orphan = pending.first(where: { !$0.value }) {
                throw corrupt(groupAt, "pending entry \(orphan.key) of consumer group \(label) has no consumer")
            }
        }
        account(groupNames)
    }
}

/// A stream entry ID as stored in consumer groups: two big-endian u64s.
struct StreamID: Hashable, CustomStringConvertible {
    let ms: UInt64, seq: UInt64
    init(_ b: [UInt8]) {
        ms = b[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
        seq = b[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
    }
    var description: String { "\(ms)-\(seq)" }
}

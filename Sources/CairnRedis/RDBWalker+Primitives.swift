// The walk's primitives: lengths, strings (LZF followed, not kept), scores.
extension RDBWalker {
    func corrupt(_ at: UInt64, _ reason: String) -> RDBError { .corrupt(offset: at, reason: reason) }

    /// A length, or the special-encoding tag of a string.
    mutating func lengthOrEncoding() throws -> (value: UInt64, encoded: Bool) {
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

    mutating func length() throws -> UInt64 {
        let at = reader.offset
        let (v, encoded) = try lengthOrEncoding()
        guard !encoded else { throw corrupt(at, "a string encoding where a length belongs") }
        return v
    }

    /// Skips one string, checking LZF data on the way; returns its stored length, first bytes and last byte, and whether it was stored plain.
    @discardableResult
    mutating func skipString(keep: Int = 0) throws -> (length: UInt64, prefix: [UInt8], last: UInt8?, plain: Bool) {
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
    mutating func streamLZF(at: UInt64) throws {
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
    mutating func decodedString(limit: Int) throws -> [UInt8]? {
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
    mutating func smallString() throws -> String {
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
    mutating func textDouble(at: UInt64) throws {
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
    mutating func binaryDouble(at: UInt64) throws {
        let bits = try reader.uint64LE()
        guard !Double(bitPattern: bits).isNaN else { throw corrupt(at, "sorted set member with a NaN score") }
    }
}

import CairnRedis

/// Writes small RDB files by hand, following the format (not Redis's code), so
/// the validator can be tested without a server.
struct RDBBuilder {
    var bytes: [UInt8]

    init(version: Int = 10) {
        bytes = Array("REDIS".utf8) + Array(String(format4(version)).utf8)
    }

    mutating func length(_ n: UInt64) {
        if n < 64 { bytes.append(UInt8(n)) } else if n < 16384 { bytes += [0x40 | UInt8(n >> 8), UInt8(n & 0xff)] } else if n <= UInt64(UInt32.max) {
            bytes.append(0x80); for s in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8((n >> UInt64(s)) & 0xff)) }
        } else {
            bytes.append(0x81); for s in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8((n >> UInt64(s)) & 0xff)) }
        }
    }

    mutating func string(_ s: String) { string(Array(s.utf8)) }
    mutating func string(_ b: [UInt8]) { length(UInt64(b.count)); bytes += b }
    mutating func int8String(_ v: Int8) { bytes += [0xC0, UInt8(bitPattern: v)] }

    mutating func aux(_ k: String, _ v: String) { bytes.append(0xFA); string(k); string(v) }
    mutating func selectDB(_ n: UInt64) { bytes.append(0xFE); length(n) }
    mutating func resizeDB(_ a: UInt64, _ b: UInt64) { bytes.append(0xFB); length(a); length(b) }
    mutating func expireMs(_ t: UInt64) { bytes.append(0xFC); for s in 0..<8 { bytes.append(UInt8((t >> UInt64(8 * s)) & 0xff)) } }

    mutating func stringKey(_ k: String, _ v: String) { bytes.append(0); string(k); string(v) }
    mutating func listKey(_ k: String, _ items: [String]) { bytes.append(1); string(k); length(UInt64(items.count)); for i in items { string(i) } }
    mutating func hashKey(_ k: String, _ pairs: [(String, String)]) {
        bytes.append(4); string(k); length(UInt64(pairs.count)); for (a, b) in pairs { string(a); string(b) }
    }
    mutating func zset2Key(_ k: String, _ members: [(String, Double)]) {
        bytes.append(5); string(k); length(UInt64(members.count))
        for (m, score) in members { string(m); let bits = score.bitPattern; for s in 0..<8 { bytes.append(UInt8((bits >> UInt64(8 * s)) & 0xff)) } }
    }
    /// A set as an intset of 16-bit values.
    mutating func intsetKey(_ k: String, _ values: [Int16]) {
        bytes.append(11); string(k)
        var blob: [UInt8] = [2, 0, 0, 0]
        let n = UInt32(values.count)
        blob += [UInt8(n & 0xff), UInt8((n >> 8) & 0xff), UInt8((n >> 16) & 0xff), UInt8(n >> 24)]
        for v in values { let u = UInt16(bitPattern: v); blob += [UInt8(u & 0xff), UInt8(u >> 8)] }
        string(blob)
    }
    /// A hash as a listpack blob (header + terminator; entries are opaque to the validator).
    mutating func listpackHashKey(_ k: String, entries: [UInt8]) {
        bytes.append(16); string(k)
        let total = UInt32(6 + entries.count + 1)
        var blob: [UInt8] = [UInt8(total & 0xff), UInt8((total >> 8) & 0xff), UInt8((total >> 16) & 0xff), UInt8(total >> 24), 2, 0]
        blob += entries; blob.append(0xFF)
        string(blob)
    }

    /// Appends the end-of-file opcode and the CRC-64 (or 0).
    func finished(checksum: Bool = true) -> [UInt8] {
        var b = bytes
        b.append(0xFF)
        let crc = checksum ? CRC64.checksum(b) : 0
        for s in 0..<8 { b.append(UInt8((crc >> UInt64(8 * s)) & 0xff)) }
        return b
    }

    /// A representative small RDB: two databases, five keys, one with an expiry.
    static func sample(version: Int = 10, checksum: Bool = true) -> [UInt8] {
        var r = RDBBuilder(version: version)
        r.aux("redis-ver", "7.0.15"); r.aux("redis-bits", "64")
        r.selectDB(0); r.resizeDB(4, 1)
        r.stringKey("greeting", "hello world")
        r.expireMs(1_900_000_000_000); r.listKey("queue", ["a", "b", "c"])
        r.hashKey("user:1", [("name", "ada"), ("lang", "swift")])
        r.zset2Key("scores", [("x", 1.5), ("y", -2)])
        r.selectDB(3)
        r.intsetKey("ids", [1, 2, 300])
        return r.finished(checksum: checksum)
    }
}

private func format4(_ v: Int) -> String {
    let s = String(v)
    return String(repeating: "0", count: max(0, 4 - s.count)) + s
}

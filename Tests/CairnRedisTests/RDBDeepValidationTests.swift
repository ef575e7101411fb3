import CairnRedis
import CairnTestSupport
import XCTest

/// The payload checks behind RDBs without a checksum: LZF strings, listpacks,
/// ziplists, intsets, duplicate members, NaN scores, stream listpacks and
/// consumer groups, each built by hand (from the format, not Redis's code),
/// valid first and then broken, with the checksum zeroed as `rdbchecksum no` writes it.
final class RDBDeepValidationTests: XCTestCase {
    // MARK: encoders

    /// A listpack of the given elements (integers as 7-bit or 16-bit, strings as 6/12-bit).
    static func listpack(_ elements: [Any], count: Int? = nil) -> [UInt8] {
        var body: [UInt8] = []
        for e in elements {
            var entry: [UInt8]
            if let i = e as? Int {
                if i >= 0 && i < 128 { entry = [UInt8(i)] } else { let u = UInt16(bitPattern: Int16(i)); entry = [0xF1, UInt8(u & 0xff), UInt8(u >> 8)] }
            } else {
                let s = Array((e as! String).utf8)
                entry = s.count < 64 ? [0x80 | UInt8(s.count)] + s : [0xE0 | UInt8(s.count >> 8), UInt8(s.count & 0xff)] + s
            }
            let n = entry.count
            entry += n <= 127 ? [UInt8(n)] : [UInt8(n >> 7), UInt8(n & 127) | 128]
            body += entry
        }
        let total = 6 + body.count + 1, c = count ?? elements.count
        return le32(total) + [UInt8(c & 0xff), UInt8(c >> 8)] + body + [0xFF]
    }

    static func le32(_ v: Int) -> [UInt8] { [UInt8(v & 0xff), UInt8((v >> 8) & 0xff), UInt8((v >> 16) & 0xff), UInt8((v >> 24) & 0xff)] }

    /// An LZF string encoding: a literal run of `literal`, then a back-reference of
    /// `refLength` bytes `distance` back.
    static func lzf(literal: [UInt8], refLength: Int, distance: Int) -> [UInt8] {
        var c: [UInt8] = [UInt8(literal.count - 1)] + literal
        let l = refLength - 2
        if l < 7 { c += [UInt8(l << 5) | UInt8((distance - 1) >> 8), UInt8((distance - 1) & 0xff)] } else {
            c += [0xE0 | UInt8((distance - 1) >> 8), UInt8(l - 7), UInt8((distance - 1) & 0xff)]
        }
        return c
    }

    /// A stream listpack: master entry with fields [f], then entries with the same field
    /// (each: flags, two id deltas, the value, and its element count: 4).
    static func streamListpack(values: [String], lpCount: Int = 4) -> [UInt8] {
        var e: [Any] = [values.count, 0, 1, "f", 0]
        for (i, v) in values.enumerated() { e += [2, 0, i, v, lpCount] }   // flags SAMEFIELDS, ms delta, seq delta, value, count
        return listpack(e)
    }

    private func builder() -> RDBBuilder {
        var r = RDBBuilder(version: 12)
        r.aux("redis-ver", "7.4.2")
        r.selectDB(0)
        return r
    }

    /// Valid as built; corrupt after `mutate`. Both with the checksum zeroed; the corrupt one also with a valid checksum.
    private func assertCaught(_ what: String, valid: (inout RDBBuilder) -> Void, corrupt: (inout RDBBuilder) -> Void, mentions: String,
                              file: StaticString = #filePath, line: UInt = #line) {
        var good = builder(); valid(&good)
        XCTAssertNoThrow(try RDBValidator.validate(bytes: good.finished(checksum: false)), "\(what): the valid form was refused", file: file, line: line)
        var bad = builder(); corrupt(&bad)
        for checksum in [false, true] {
            XCTAssertThrowsError(try RDBValidator.validate(bytes: bad.finished(checksum: checksum)), "\(what) passed", file: file, line: line) { e in
                guard case .corrupt(_, let reason) = e as? RDBError else { return XCTFail("\(what): \(e)", file: file, line: line) }
                XCTAssertTrue(reason.contains(mentions), "\(what): \(reason)", file: file, line: line)
            }
        }
    }

    // MARK: the checks

    func testLZFStrings() {
        let text = Array("abcabcabcabc".utf8)
        let good = Self.lzf(literal: Array("abc".utf8), refLength: 9, distance: 3)
        assertCaught("LZF reference before the start", valid: { r in
            r.bytes += [0]; r.string("k"); r.bytes += [0xC3]; r.length(UInt64(good.count)); r.length(UInt64(text.count)); r.bytes += good
        }, corrupt: { r in
            let bad = Self.lzf(literal: Array("abc".utf8), refLength: 9, distance: 4)
            r.bytes += [0]; r.string("k"); r.bytes += [0xC3]; r.length(UInt64(bad.count)); r.length(UInt64(text.count)); r.bytes += bad
        }, mentions: "before the start")
        assertCaught("LZF stated length", valid: { r in
            r.bytes += [0]; r.string("k"); r.bytes += [0xC3]; r.length(UInt64(good.count)); r.length(12); r.bytes += good
        }, corrupt: { r in
            r.bytes += [0]; r.string("k"); r.bytes += [0xC3]; r.length(UInt64(good.count)); r.length(13); r.bytes += good
        }, mentions: "less than its stated length")
        // In a container the decompressed bytes are parsed too (a listpack set, compressed).
        let lp = Self.listpack(["aaaaaaaa", "aaaaaaab"])
        var r = builder()
        r.bytes += [20]; r.string("s"); r.bytes += [0xC3]
        let c = [UInt8(lp.count - 1)] + lp   // one literal run of the whole listpack
        r.length(UInt64(c.count)); r.length(UInt64(lp.count)); r.bytes += c
        XCTAssertNoThrow(try RDBValidator.validate(bytes: r.finished(checksum: false)))
    }

    /// A flipped type byte that names a type newer than the file's RDB version (a set
    /// listpack, type 20, in a Redis 7.0 file) is damage, as redis-check-rdb 7.0 says.
    func testValueTypeNewerThanTheFileVersionIsRefused() {
        var old = RDBBuilder(version: 10)
        old.aux("redis-ver", "7.0.15")
        old.selectDB(0)
        var valid = old
        valid.bytes += [16]; valid.string("h"); valid.string(Self.listpack(["f", "v"]))
        XCTAssertNoThrow(try RDBValidator.validate(bytes: valid.finished(checksum: false)))
        old.bytes += [20]; old.string("h"); old.string(Self.listpack(["f", "v"]))   // 16 -> 20: a bit flipped
        XCTAssertThrowsError(try RDBValidator.validate(bytes: old.finished(checksum: false))) { e in
            guard case .corrupt(_, let reason) = e as? RDBError else { return XCTFail("\(e)") }
            XCTAssertTrue(reason.contains("does not exist in RDB version 10"), reason)
        }
    }

    func testListpackStructureAndDuplicates() {
        assertCaught("set listpack duplicate", valid: { r in
            r.bytes += [20]; r.string("s"); r.string(Self.listpack(["a", "b", 7]))
        }, corrupt: { r in
            r.bytes += [20]; r.string("s"); r.string(Self.listpack(["a", "b", "a"]))
        }, mentions: "twice")
        assertCaught("zset listpack duplicate member", valid: { r in
            r.bytes += [17]; r.string("z"); r.string(Self.listpack(["m", "1.5", "n", 2]))
        }, corrupt: { r in
            r.bytes += [17]; r.string("z"); r.string(Self.listpack(["m", "1.5", "m", 2]))
        }, mentions: "twice")
        assertCaught("hash listpack odd element count", valid: { r in
            r.bytes += [16]; r.string("h"); r.string(Self.listpack(["f", "v"]))
        }, corrupt: { r in
            r.bytes += [16]; r.string("h"); r.string(Self.listpack(["f", "v", "g"]))
        }, mentions: "multiple of 2")
        assertCaught("listpack element count", valid: { r in
            r.bytes += [18]; r.string("l"); r.length(1); r.length(2); r.string(Self.listpack(["x", "y"]))
        }, corrupt: { r in
            r.bytes += [18]; r.string("l"); r.length(1); r.length(2); r.string(Self.listpack(["x", "y"], count: 3))
        }, mentions: "elements")
        assertCaught("listpack back-length", valid: { r in
            r.bytes += [20]; r.string("s"); r.string(Self.listpack(["abc"]))
        }, corrupt: { r in
            var lp = Self.listpack(["abc"]); lp[10] = 3   // the entry's back-length (it has 4 bytes)
            r.bytes += [20]; r.string("s"); r.string(lp)
        }, mentions: "back-length")
        assertCaught("listpack encoding", valid: { r in
            r.bytes += [20]; r.string("s"); r.string(Self.listpack([5]))
        }, corrupt: { r in
            var lp = Self.listpack([5]); lp[6] = 0xF7
            r.bytes += [20]; r.string("s"); r.string(lp)
        }, mentions: "unknown encoding")
    }

    func testIntsetsAndClassicCollections() {
        func intset(_ v: [Int16]) -> [UInt8] { [2, 0, 0, 0] + Self.le32(v.count) + v.flatMap { [UInt8(UInt16(bitPattern: $0) & 0xff), UInt8(UInt16(bitPattern: $0) >> 8)] } }
        assertCaught("intset order", valid: { r in r.bytes += [11]; r.string("i"); r.string(intset([1, 5, 9])) },
                     corrupt: { r in r.bytes += [11]; r.string("i"); r.string(intset([1, 9, 5])) }, mentions: "not sorted")
        assertCaught("intset duplicate", valid: { r in r.bytes += [11]; r.string("i"); r.string(intset([1, 5])) },
                     corrupt: { r in r.bytes += [11]; r.string("i"); r.string(intset([5, 5])) }, mentions: "twice")
        assertCaught("zset duplicate member", valid: { r in r.zset2Key("z", [("a", 1), ("b", 2)]) },
                     corrupt: { r in r.zset2Key("z", [("a", 1), ("a", 2)]) }, mentions: "twice")
        assertCaught("zset NaN score", valid: { r in r.zset2Key("z", [("a", 1)]) },
                     corrupt: { r in r.zset2Key("z", [("a", .nan)]) }, mentions: "NaN")
        assertCaught("set duplicate", valid: { r in r.bytes += [2]; r.string("s"); r.length(2); r.string("x"); r.string("y") },
                     corrupt: { r in r.bytes += [2]; r.string("s"); r.length(2); r.string("5"); r.int8String(5) },  // 5 as text and as an integer
                     mentions: "twice")
        assertCaught("hash duplicate field", valid: { r in r.hashKey("h", [("f", "1"), ("g", "2")]) },
                     corrupt: { r in r.hashKey("h", [("f", "1"), ("f", "2")]) }, mentions: "twice")
    }

    /// Zipmaps (type 9, Redis < 2.6) as Redis's loader checks them: lengths inside
    /// the string, a terminator, the header's count, at least one entry, no field twice.
    func testZipmaps() {
        /// `<count><len>field<len><free>value<free bytes>...<0xFF>`, lengths in the one-byte form.
        func zipmap(_ pairs: [(String, String)], count: UInt8? = nil, free: UInt8 = 0) -> [UInt8] {
            var z: [UInt8] = [count ?? UInt8(pairs.count)]
            for (f, v) in pairs {
                z += [UInt8(f.utf8.count)] + Array(f.utf8) + [UInt8(v.utf8.count), free] + Array(v.utf8)
                z += [UInt8](repeating: 0, count: Int(free))
            }
            return z + [0xFF]
        }
        func key(_ r: inout RDBBuilder, _ z: [UInt8]) { r.bytes += [9]; r.string("zm"); r.string(z) }
        assertCaught("zipmap count", valid: { r in key(&r, zipmap([("a", "1"), ("b", "2")])) },
                     corrupt: { r in key(&r, zipmap([("a", "1"), ("b", "2")], count: 3)) }, mentions: "header says")
        assertCaught("zipmap unknown count", valid: { r in key(&r, zipmap([("a", "1")], count: 254, free: 2)) },
                     corrupt: { r in key(&r, zipmap([], count: 254)) }, mentions: "empty")
        assertCaught("zipmap duplicate field", valid: { r in key(&r, zipmap([("a", "1"), ("b", "1")])) },
                     corrupt: { r in key(&r, zipmap([("a", "1"), ("a", "2")])) }, mentions: "twice")
        assertCaught("zipmap value past the end", valid: { r in key(&r, zipmap([("a", "12")])) },
                     corrupt: { r in var z = zipmap([("a", "12")]); z[3] = 9; key(&r, z) }, mentions: "past the end")
        assertCaught("zipmap terminator", valid: { r in key(&r, zipmap([("a", "1")])) },
                     corrupt: { r in var z = zipmap([("a", "1")]); z[z.count - 1] = 0; key(&r, z) }, mentions: "terminator")
        assertCaught("zipmap five-byte length", valid: { r in key(&r, zipmap([("a", "1")])) },
                     corrupt: { r in key(&r, [1, 254, 1, 0, 0, 0, UInt8(ascii: "a"), 1, 0, UInt8(ascii: "1"), 0xFF]) }, mentions: "five-byte")
    }

    func testStreamsAndConsumerGroups() {
        func stream(_ r: inout RDBBuilder, listpack: [UInt8], groups: (inout RDBBuilder) -> Void) {
            r.bytes += [15]; r.string("st"); r.length(1)
            r.string([UInt8](repeating: 0, count: 15) + [1]); r.string(listpack)
            r.length(2); r.length(0); r.length(2)   // entries, last id
            groups(&r)
        }
        func id(_ n: UInt8) -> [UInt8] { [UInt8](repeating: 0, count: 15) + [n] }
        func group(_ r: inout RDBBuilder, name: String, pending: [UInt8], consumers: [(String, [UInt8])]) {
            r.string(name); r.length(0); r.length(2)
            r.length(UInt64(pending.count)); for p in pending { r.bytes += id(p) + [UInt8](repeating: 0, count: 8); r.length(1) }
            r.length(UInt64(consumers.count))
            for (c, owned) in consumers { r.string(c); r.bytes += [UInt8](repeating: 0, count: 8); r.length(UInt64(owned.count)); for o in owned { r.bytes += id(o) } }
        }
        let lp = Self.streamListpack(values: ["a", "b"])
        assertCaught("stream listpack entry count", valid: { r in stream(&r, listpack: lp) { $0.length(0) } },
                     corrupt: { r in stream(&r, listpack: Self.streamListpack(values: ["a", "b"], lpCount: 5)) { $0.length(0) } },
                     mentions: "element count")
        assertCaught("consumer owning an entry its group does not list", valid: { r in
            stream(&r, listpack: lp) { g in g.length(1); group(&g, name: "g", pending: [1, 2], consumers: [("c", [1, 2])]) }
        }, corrupt: { r in
            stream(&r, listpack: lp) { g in g.length(1); group(&g, name: "g", pending: [1, 2], consumers: [("c", [1, 3])]) }
        }, mentions: "does not list")
        assertCaught("pending entry without a consumer", valid: { r in
            stream(&r, listpack: lp) { g in g.length(1); group(&g, name: "g", pending: [1], consumers: [("c", [1])]) }
        }, corrupt: { r in
            stream(&r, listpack: lp) { g in g.length(1); group(&g, name: "g", pending: [1, 2], consumers: [("c", [1])]) }
        }, mentions: "has no consumer")
        assertCaught("duplicate consumer group", valid: { r in
            stream(&r, listpack: lp) { g in g.length(2); group(&g, name: "g", pending: [], consumers: []); group(&g, name: "h", pending: [], consumers: []) }
        }, corrupt: { r in
            stream(&r, listpack: lp) { g in g.length(2); group(&g, name: "g", pending: [], consumers: []); group(&g, name: "g", pending: [], consumers: []) }
        }, mentions: "twice")
        assertCaught("duplicate consumer", valid: { r in
            stream(&r, listpack: lp) { g in g.length(1); group(&g, name: "g", pending: [], consumers: [("c", []), ("d", [])]) }
        }, corrupt: { r in
            stream(&r, listpack: lp) { g in g.length(1); group(&g, name: "g", pending: [], consumers: [("c", []), ("c", [])]) }
        }, mentions: "twice")
    }

    /// Containers claiming gigabytes neither allocate them nor crash.
    func testClaimedSizesAreNotAllocated() {
        var r = builder()
        r.bytes += [20]; r.string("s"); r.length(60 << 20)   // a 60 MiB listpack that is not there
        XCTAssertThrowsError(try RDBValidator.validate(bytes: r.finished(checksum: false)))
        var c = builder()
        c.bytes += [0]; c.string("k"); c.bytes += [0xC3]; c.length(10); c.length(UInt64(1) << 40); c.bytes += [0, 65]
        XCTAssertThrowsError(try RDBValidator.validate(bytes: c.finished(checksum: false)))
    }

    /// A container too large to decode within the memory bound is counted as
    /// unchecked (its header is still checked); without a checksum the backup
    /// refuses it even with --allow-no-checksum, with a checksum it is accepted.
    func testContainerTooLargeToCheckNeedsTheChecksum() throws {
        let payload = [UInt8](repeating: 0x61, count: 9 << 20)
        var entry: [UInt8] = [0xF0] + Self.le32(payload.count) + payload
        let size = entry.count
        entry += [UInt8(size >> 28), UInt8((size >> 21) & 127) | 128, UInt8((size >> 14) & 127) | 128, UInt8((size >> 7) & 127) | 128, UInt8(size & 127) | 128]
        let lp = Self.le32(6 + entry.count + 1) + [1, 0] + entry + [0xFF]
        var r = builder()
        r.bytes += [20]; r.string("big"); r.string(lp)
        let summary = try RDBValidator.validate(bytes: r.finished(checksum: false))
        XCTAssertEqual(summary.uncheckedValues, 1)
        XCTAssertEqual(try RDBValidator.validate(bytes: r.finished(checksum: true)).uncheckedValues, 1)
        var broken = lp; broken[0] ^= 1
        var b = builder()
        b.bytes += [20]; b.string("big"); b.string(broken)
        XCTAssertThrowsError(try RDBValidator.validate(bytes: b.finished(checksum: false)), "the header of an unchecked container is still checked")

        let cairn = try newRepository("rdbbig"), tmp = cairn.dir
        let file = tmp.appendingPathComponent("big.rdb")
        try Data(r.finished(checksum: false)).write(to: file)
        let refused = try cairn.fails(["redis", "backup", "--name", "big", "--file", file.path, "--allow-no-checksum"])
        XCTAssertTrue(refused.err.contains("too large to check") && refused.err.contains("no snapshot was saved"), refused.err)
        XCTAssertEqual(try cairn.snapshotCount(), 0)
        try Data(r.finished(checksum: true)).write(to: file)
        try cairn.ok(["redis", "backup", "--name", "big", "--file", file.path])
        XCTAssertEqual(try cairn.snapshotCount(name: "big"), 1)
    }
}

import XCTest
import CairnFormat

/// ByteWriter/ByteReader primitives, ChunkID and Hex.
final class PrimitiveEncodingTests: XCTestCase {
    func testFixedWidthIntegersAreLittleEndian() throws {
        var w = ByteWriter()
        w.u8(0xAB); w.u16(0x0102); w.u32(0x0304_0506); w.u64(0x0708_090A_0B0C_0D0E); w.i64(-2)
        XCTAssertEqual(Hex.encode(w.bytes), "ab" + "0201" + "06050403" + "0e0d0c0b0a090807" + "feffffffffffffff")
        var r = ByteReader(w.bytes, what: "ints")
        XCTAssertEqual(try r.u8(), 0xAB)
        XCTAssertEqual(try r.u16(), 0x0102)
        XCTAssertEqual(try r.u32(), 0x0304_0506)
        XCTAssertEqual(try r.u64(), 0x0708_090A_0B0C_0D0E)
        XCTAssertEqual(try r.i64(), -2)
        XCTAssertNoThrow(try r.expectEnd())
        XCTAssertThrowsError(try r.u8()) { XCTAssertEqual($0 as? FormatError, .truncated(what: "ints")) }
    }

    func testVarintEncodings() throws {
        let cases: [(UInt64, String)] = [
            (0, "00"), (1, "01"), (127, "7f"), (128, "8001"), (300, "ac02"), (16383, "ff7f"), (16384, "808001"),
            (UInt64(UInt32.max), "ffffffff0f"), (1 << 63, "80808080808080808001"),
            (UInt64.max, "ffffffffffffffffff01"),
        ]
        for (value, hex) in cases {
            var w = ByteWriter(); w.varint(value)
            XCTAssertEqual(Hex.encode(w.bytes), hex, "\(value)")
            var r = ByteReader(Hex.decode(hex)!, what: "varint")
            XCTAssertEqual(try r.varint(), value)
            XCTAssert(r.isAtEnd)
        }
    }

    func testVarintRejections() {
        func decode(_ hex: String) throws -> UInt64 { var r = ByteReader(Hex.decode(hex)!, what: "v"); return try r.varint() }
        // Eleven bytes.
        XCTAssertThrowsError(try decode("ffffffffffffffffffff01"))
        // Ten bytes whose last group overflows 64 bits.
        XCTAssertThrowsError(try decode("ffffffffffffffffff02"))
        XCTAssertThrowsError(try decode("ffffffffffffffffff7f"))
        // Not the shortest form.
        XCTAssertThrowsError(try decode("8000"))
        XCTAssertThrowsError(try decode("ff00"))
        XCTAssertThrowsError(try decode("80808080808080808000"))
        // Truncated.
        XCTAssertThrowsError(try decode("")) { XCTAssertEqual($0 as? FormatError, .truncated(what: "v")) }
        XCTAssertThrowsError(try decode("80")) { XCTAssertEqual($0 as? FormatError, .truncated(what: "v")) }
    }

    func testRandomVarintsRoundTrip() throws {
        var rng = SplitMix64(seed: 9)
        for _ in 0..<10_000 {
            let v = rng.next() >> (rng.next() % 64)
            var w = ByteWriter(); w.varint(v)
            XCTAssertEqual(w.bytes.count, max(1, (64 - v.leadingZeroBitCount + 6) / 7))
            var r = ByteReader(w.bytes, what: "v")
            XCTAssertEqual(try r.varint(), v)
        }
    }

    func testCountLimits() {
        var w = ByteWriter(); w.varint(1000)
        var r = ByteReader(w.bytes, what: "count")
        XCTAssertThrowsError(try r.count(max: 999))
        var big = ByteWriter(); big.varint(UInt64.max)
        var r2 = ByteReader(big.bytes, what: "count")
        XCTAssertThrowsError(try r2.count())
    }

    func testDataAndString() throws {
        var w = ByteWriter()
        w.data([1, 2, 3]); w.string("héllo"); w.data([UInt8]()); w.id(Fixtures.id(7))
        XCTAssertEqual(Array(w.bytes.prefix(4)), [3, 1, 2, 3])
        XCTAssertEqual(Array(w.bytes[4..<11]), [6] + Array("héllo".utf8))
        var r = ByteReader(w.bytes, what: "d")
        XCTAssertEqual(try r.data(), [1, 2, 3])
        XCTAssertEqual(try r.string(), "héllo")
        XCTAssertEqual(try r.data(), [])
        XCTAssertEqual(try r.id(), Fixtures.id(7))
        XCTAssertNoThrow(try r.expectEnd())
        // A length beyond the input, and a string that is not UTF-8.
        var r2 = ByteReader([5, 1, 2], what: "d")
        XCTAssertThrowsError(try r2.data()) { XCTAssert($0 is FormatError) }
        var r3 = ByteReader([2, 0xC3, 0x28], what: "s")
        XCTAssertThrowsError(try r3.string())
        var r4 = ByteReader([1, 2], what: "t")
        XCTAssertEqual(try r4.u8(), 1)
        XCTAssertThrowsError(try r4.expectEnd())
    }

    func testChunkIDBytesHexAndOrder() {
        let id = Fixtures.id(0)
        XCTAssertEqual(id.bytes, Array(0..<32))
        XCTAssertEqual(id.hex, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
        XCTAssertEqual(id.short, "00010203")
        XCTAssertEqual(ChunkID(hex: id.hex), id)
        XCTAssertEqual(ChunkID(hex: id.hex.uppercased()), id)
        XCTAssertNil(ChunkID(hex: String(id.hex.dropLast(2))))
        XCTAssertNil(ChunkID(bytes: [UInt8](repeating: 0, count: 31)))
        XCTAssertNil(ChunkID(bytes: [UInt8](repeating: 0, count: 33)))
        // Order is the byte-wise order of the 32 bytes.
        var rng = SplitMix64(seed: 3)
        let ids = (0..<200).map { _ in ChunkID(bytes: rng.bytes(32))! }
        XCTAssertEqual(ids.sorted().map(\.bytes), ids.map(\.bytes).sorted { $0.lexicographicallyPrecedes($1) })
    }

    func testHex() {
        XCTAssertEqual(Hex.encode([0x00, 0xFF, 0x0A]), "00ff0a")
        XCTAssertEqual(Hex.decode("00Ff0a"), [0x00, 0xFF, 0x0A])
        XCTAssertEqual(Hex.decode(""), [])
        XCTAssertNil(Hex.decode("abc"))
        XCTAssertNil(Hex.decode("zz"))
        XCTAssertNil(Hex.decode("é1"))
    }
}

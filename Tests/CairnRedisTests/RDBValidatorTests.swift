import CairnRedis
import XCTest

/// The pure core: CRC-64 (Jones) and the streaming RDB validator, no server, no I/O.
final class RDBValidatorTests: XCTestCase {
    func testCRC64CheckValueAndIncrementalUpdates() {
        // The check value of CRC-64/Jones as Redis's crc64.c documents it.
        XCTAssertEqual(CRC64.checksum(Array("123456789".utf8)), 0xe9c6_d914_c4b8_d9ca)
        XCTAssertEqual(CRC64.checksum([]), 0)
        // The 8-byte fast path and the byte loop agree, split anywhere.
        var rng = SystemRandomNumberGenerator()
        let data = (0..<1000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let whole = CRC64.checksum(data)
        for split in [0, 1, 7, 8, 9, 500, 999, 1000] {
            var c = CRC64()
            c.update(Array(data[0..<split])); c.update(Array(data[split...]))
            XCTAssertEqual(c.value, whole, "split at \(split)")
        }
    }

    func testSampleValidatesWithCountsAndChecksum() throws {
        let rdb = RDBBuilder.sample()
        let s = try RDBValidator.validate(bytes: rdb)
        XCTAssertEqual(s.version, 10)
        XCTAssertEqual(s.keysPerDatabase, [0: 4, 3: 1])
        XCTAssertEqual(s.keys, 5)
        XCTAssertEqual(s.keysWithExpiry, 1)
        XCTAssertEqual(s.aux["redis-ver"], "7.0.15")
        XCTAssertTrue(s.checksumVerified)
        XCTAssertEqual(s.byteCount, UInt64(rdb.count))
        // Delivered one byte (or seven) at a time, the same result: no buffer-boundary bugs.
        for step in [1, 7, 4096] {
            XCTAssertEqual(try RDBValidator.validate(ArrayByteSource(rdb, step: step)), s, "step \(step)")
        }
    }

    func testZeroChecksumMeansDisabledButStructureIsStillChecked() throws {
        let rdb = RDBBuilder.sample(checksum: false)
        let s = try RDBValidator.validate(bytes: rdb)
        XCTAssertFalse(s.checksumVerified)
        XCTAssertEqual(s.snapshotFacts["redis.checksum"], "disabled")
        var broken = rdb
        broken.removeSubrange(20..<24)
        XCTAssertThrowsError(try RDBValidator.validate(bytes: broken))
    }

    func testEveryTruncationIsRefused() {
        let rdb = RDBBuilder.sample()
        for n in 0..<rdb.count {
            XCTAssertThrowsError(try RDBValidator.validate(bytes: Array(rdb[0..<n])), "a prefix of \(n) of \(rdb.count) bytes passed") { e in
                guard let e = e as? RDBError else { return XCTFail("not an RDBError: \(e)") }
                switch e {
                case .truncated, .badMagic, .unsupportedVersion, .corrupt, .checksumMismatch: break
                default: XCTFail("prefix \(n): \(e)")
                }
            }
        }
    }

    func testEveryFlippedByteIsRefused() {
        let rdb = RDBBuilder.sample()
        for i in 0..<rdb.count {
            var b = rdb
            b[i] ^= 0x5A
            XCTAssertThrowsError(try RDBValidator.validate(bytes: b), "flipping byte \(i) went unnoticed")
        }
    }

    func testWrongMagicVersionAndTrailingBytes() {
        var rdb = RDBBuilder.sample()
        rdb[0] = UInt8(ascii: "X")
        XCTAssertThrowsError(try RDBValidator.validate(bytes: rdb)) { XCTAssertEqual($0 as? RDBError, .badMagic) }
        XCTAssertThrowsError(try RDBValidator.validate(bytes: Array("hello".utf8))) { XCTAssertEqual($0 as? RDBError, .badMagic) }
        XCTAssertThrowsError(try RDBValidator.validate(bytes: [])) { XCTAssertEqual($0 as? RDBError, .badMagic) }
        XCTAssertThrowsError(try RDBValidator.validate(bytes: RDBBuilder.sample(version: 99))) {
            XCTAssertEqual($0 as? RDBError, .unsupportedVersion("0099"))
        }
        XCTAssertThrowsError(try RDBValidator.validate(bytes: RDBBuilder.sample() + [0])) {
            guard case .trailingData = $0 as? RDBError else { return XCTFail("\($0)") }
        }
        // A gzip'd RDB is not an RDB.
        XCTAssertThrowsError(try RDBValidator.validate(bytes: [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]))
    }

    func testStructuralErrorsWithAValidChecksum() {
        // Corruption that a checksum computed over the bad bytes would not catch.
        var r = RDBBuilder()
        r.bytes.append(0x42); r.string("k"); r.string("v")   // value type 66 does not exist
        XCTAssertThrowsError(try RDBValidator.validate(bytes: r.finished())) {
            guard case .corrupt(_, let reason) = $0 as? RDBError else { return XCTFail("\($0)") }
            XCTAssertTrue(reason.contains("unknown value type 66"), reason)
        }
        var l = RDBBuilder()
        l.listpackHashKey("h", entries: [1, 2, 3])
        var bad = l.finished(checksum: false)
        bad[14] = 99 // the listpack's own byte count
        XCTAssertThrowsError(try RDBValidator.validate(bytes: bad))
        var e = RDBBuilder()
        e.expireMs(1); e.bytes.append(0xFE); e.length(0)       // an expiry not followed by a key
        XCTAssertThrowsError(try RDBValidator.validate(bytes: e.finished()))
    }

    func testHugeLengthsNeitherAllocateNorCrash() {
        var r = RDBBuilder()
        r.bytes.append(0); r.string("k"); r.length(UInt64.max) // a string claiming 2^64-1 bytes
        XCTAssertThrowsError(try RDBValidator.validate(bytes: r.bytes)) {
            guard case .truncated = $0 as? RDBError else { return XCTFail("\($0)") }
        }
        var s = RDBBuilder()
        s.bytes.append(1); s.string("k"); s.length(UInt64(1) << 60) // a list of 2^60 elements
        XCTAssertThrowsError(try RDBValidator.validate(bytes: s.bytes))
    }
}

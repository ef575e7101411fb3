import CairnFormat
import XCTest

/// The blob plaintext layout of format-spec §8 and the pack trailer of §9, byte by byte, as the
/// writers use them (issue 19 moved both out of the engine; the bytes must not change).
final class BlobPlaintextTests: XCTestCase {
    let base = ChunkID(bytes: (0..<32).map { UInt8($0) })!

    func testLayoutsAreEncodingByteThenPayload() {
        let content: [UInt8] = [9, 8, 7]
        XCTAssertEqual(content.withUnsafeBytes { BlobPlaintext.raw($0) }, [0, 9, 8, 7])
        XCTAssertEqual(BlobPlaintext.zstd([0x28, 0xb5]), [1, 0x28, 0xb5])
        XCTAssertEqual(BlobPlaintext.delta(base: base, frame: [0xaa]), [2] + (0..<32).map { UInt8($0) } + [0xaa])
        XCTAssertEqual(BlobPlaintext.deltaPrefixLength, 33)
        XCTAssertEqual(BlobPlaintext.encoded(.zstd, payload: [5]), [1, 5])
    }

    func testTheBaseADeltaNames() {
        let delta = BlobPlaintext.delta(base: base, frame: [1, 2, 3])
        XCTAssertEqual(BlobPlaintext.deltaBase(encoded: delta), base)
        XCTAssertNil(BlobPlaintext.deltaBase(encoded: BlobPlaintext.zstd(base.bytes + [1])))
        XCTAssertNil(BlobPlaintext.deltaBase(encoded: [2] + Array(base.bytes.prefix(31))))
        Array(delta.dropFirst()).withUnsafeBytes { payload in
            let split = BlobPlaintext.splitDelta(payload: payload)
            XCTAssertEqual(split?.base, base)
            XCTAssertEqual(split.map { Array($0.frame) }, [1, 2, 3])
        }
        [UInt8](repeating: 0, count: 31).withUnsafeBytes { XCTAssertNil(BlobPlaintext.splitDelta(payload: $0)) }
    }

    func testPackTrailerIsTheSealedHeaderThenItsLittleEndianLength() throws {
        let header = [UInt8](repeating: 0xee, count: 300)
        let trailer = PackTrailer.encode(sealedHeader: header)
        XCTAssertEqual(Array(trailer.suffix(4)), [0x2c, 0x01, 0, 0])
        XCTAssertEqual(Array(trailer.prefix(300)), header)
        // The reader finds the header again after 50 bytes of blobs.
        XCTAssertEqual(try PackTrailer.sealedHeaderRange(tail: Array(trailer.suffix(4)), packSize: 50 + UInt64(trailer.count), what: "pack"), 50..<350)
    }
}

import CairnFormat
import XCTest

/// The last four bytes of a pack come from the store: every length they claim
/// is checked against the pack's size before anything is read.
final class PackTrailerTests: XCTestCase {
    func testHonestTrailerLocatesTheSealedHeader() throws {
        // 100 bytes of blobs, a 60-byte sealed header, its length.
        XCTAssertEqual(try PackTrailer.sealedHeaderRange(tail: [60, 0, 0, 0], packSize: 164, what: "pack"), 100..<160)
        XCTAssertEqual(try PackTrailer.sealedHeaderRange(tail: [28, 0, 0, 0], packSize: 32, what: "pack"), 0..<28)
    }

    func testImpossibleLengthsAreRefused() {
        let cases: [([UInt8], UInt64)] = [
            ([61, 0, 0, 0], 64),              // runs past the start of the pack
            ([0xff, 0xff, 0xff, 0xff], 100),  // 4 GiB header in a small pack
            ([27, 0, 0, 0], 100),             // shorter than nonce and tag
            ([0, 0, 0, 0], 4),                // no header at all
            ([60, 0, 0], 164),                // short tail
            ([60, 0, 0, 0], 3),               // pack shorter than its trailer
        ]
        for (tail, size) in cases {
            XCTAssertThrowsError(try PackTrailer.sealedHeaderRange(tail: tail, packSize: size, what: "pack"), "\(tail) in \(size)") { e in
                XCTAssertTrue(e is FormatError, "\(e)")
            }
        }
    }
}

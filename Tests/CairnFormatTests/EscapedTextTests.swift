import CairnFormat
import XCTest

final class EscapedTextTests: XCTestCase {
    func testKnownForms() {
        XCTAssertEqual(EscapedText.escape(Array("plain name.txt".utf8)), "plain name.txt")
        XCTAssertEqual(EscapedText.escape(Array("caf".utf8) + [0xE9]), "caf\\xe9")
        XCTAssertEqual(EscapedText.escape(Array("a\nb\tc\rd\\e".utf8)), "a\\nb\\tc\\rd\\\\e")
        XCTAssertEqual(EscapedText.escape(Array("\u{1B}[2J\u{7F}".utf8)), "\\x1b[2J\\x7f")
        XCTAssertEqual(EscapedText.escape(Array("x\u{202E}y\u{85}z\u{2028}".utf8)), "x\\u202ey\\u0085z\\u2028")
        XCTAssertEqual(EscapedText.escape(Array("ärger 🗂".utf8)), "ärger 🗂")
        XCTAssertEqual(EscapedText.escape(Array("\u{F0000}".utf8)), "\\U000f0000")  // private use, beyond the BMP
        // Overlong, surrogate and truncated sequences are bytes, not characters.
        XCTAssertEqual(EscapedText.escape([0xC0, 0xAF, 0xED, 0xA0, 0x80, 0xE2, 0x82]), "\\xc0\\xaf\\xed\\xa0\\x80\\xe2\\x82")
    }

    func testUnescapeInvertsEscapeForAnyBytes() {
        var rng = SplitMix64(seed: 19)
        for length in 0..<200 {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let shown = EscapedText.escape(bytes)
            XCTAssertEqual(EscapedText.unescape(shown), bytes)
            XCTAssertFalse(shown.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, shown)
        }
        XCTAssertNil(EscapedText.unescape("a\\qb"))
        XCTAssertNil(EscapedText.unescape("trailing\\"))
        XCTAssertNil(EscapedText.unescape("\\xZ1"))
        XCTAssertNil(EscapedText.unescape("\\ud800"))
        XCTAssertEqual(EscapedText.unescape("\\x41\\u00e9"), Array("Aé".utf8))
    }
}

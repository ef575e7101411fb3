import Foundation
import XCTest
@testable import CairnFormat

/// The FastCDC tables printed in format-spec/v1.md (appendices A and B) are
/// the ones the code uses.
final class SpecTableTests: XCTestCase {
    /// The 64-bit hex words in the code block between `<!-- name:begin -->` and `<!-- name:end -->`.
    private func words(_ name: String) throws -> [UInt64] {
        let spec = SpecVectorTests.directory.deletingLastPathComponent().appendingPathComponent("v1.md")
        let text = try String(contentsOf: spec, encoding: .utf8)
        let begin = try XCTUnwrap(text.range(of: "<!-- \(name):begin -->"), "no \(name) table in v1.md")
        let end = try XCTUnwrap(text.range(of: "<!-- \(name):end -->"), "no end of \(name) table in v1.md")
        let block = text[begin.upperBound..<end.lowerBound]
        return block.split(whereSeparator: { $0 == " " || $0 == "\n" })
            .filter { $0.count == 16 }
            .compactMap { UInt64($0, radix: 16) }
    }

    func testGearAppendixMatchesCode() throws {
        XCTAssertEqual(try words("gear"), FastCDC.defaultGear)
    }

    func testMasksAppendixMatchesCode() throws {
        XCTAssertEqual(try words("masks"), FastCDC.masks)
    }
}

import CairnPlan
import XCTest

/// Inputs the `plan` fuzz target (Fuzz/) found; their bytes are in
/// Fuzz/Regressions/plan/. Each must end in a TOMLError naming the line, never a crash.
final class FuzzRegressionTests: XCTestCase {
    private func assertRefused(_ text: String, _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try TOMLParser.parse(text), file: file, line: line) { e in
            guard let e = e as? TOMLError else { return XCTFail("\(e)", file: file, line: line) }
            XCTAssertEqual(e.line, 1, file: file, line: line)
            XCTAssertTrue(e.message.contains(fragment), e.message, file: file, line: line)
        }
        XCTAssertThrowsError(try PlanDecoder.decode(text, file: "cairn.toml", capabilities: PlanCapabilities(sources: [])), file: file, line: line)
    }

    /// Fuzz/Regressions/plan/deep-array, deep-inline-table, long-header, long-key: 8,000
    /// nested arrays, 4,000 nested inline tables and keys of 8,000 dotted parts (in a
    /// header or before '=') each overflowed the stack of the recursive parser.
    func testDeepNestingAndLongKeysAreRefused() {
        assertRefused("x = " + String(repeating: "[", count: 8000) + String(repeating: "]", count: 8000), "nested more than 16 deep")
        assertRefused("x = " + String(repeating: "{a=", count: 4000) + "1" + String(repeating: "}", count: 4000), "nested more than 16 deep")
        let parts = Array(repeating: "a", count: 8000).joined(separator: ".")
        assertRefused("[" + parts + "]", "more than 16 dotted parts")
        assertRefused(parts + " = 1", "more than 16 dotted parts")
    }

    /// The bound is far above what plans use.
    func testSixteenLevelsStillParse() throws {
        let text = "x = " + String(repeating: "[", count: 16) + "1" + String(repeating: "]", count: 16) + "\n"
            + Array(repeating: "k", count: 16).joined(separator: ".") + " = { " + Array(repeating: "i", count: 16).joined(separator: ".") + " = 2 }\n"
        let root = try TOMLParser.parse(text)
        XCTAssertNotNil(root["x"])
        XCTAssertNotNil(root["k"])
    }
}

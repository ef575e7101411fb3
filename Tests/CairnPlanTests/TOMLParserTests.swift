import CairnPlan
import XCTest

final class TOMLParserTests: XCTestCase {
    func testTablesArraysInlineTablesAndLines() throws {
        let doc = """
        # a comment
        [repository.onsite]   # trailing comment
        url = "/backups/cairn"
        keep = { daily = 7, weekly = 4, "monthly" = 12 }
        [source.db]
        paths = [
          "/a",   # first
          '/b\\c',
        ]
        n = -1_000
        on = true
        [[source.db.check]]
        sql = "SELECT 1"
        [[source.db.check]]
        sql = "SELECT \\"x\\"\\u00e9"
        """
        let root = try TOMLParser.parse(doc)
        guard case .table(let reps)? = root["repository"]?.value, case .table(let onsite)? = reps["onsite"]?.value else { return XCTFail("no repository.onsite") }
        XCTAssertEqual(onsite.line, 2)
        XCTAssertEqual(onsite["url"], TOMLNode(.string("/backups/cairn"), line: 3))
        guard case .table(let keep)? = onsite["keep"]?.value else { return XCTFail("keep") }
        XCTAssertEqual(keep.keys, ["daily", "weekly", "monthly"])
        XCTAssertEqual(keep["monthly"]?.value, .integer(12))
        guard case .table(let srcs)? = root["source"]?.value, case .table(let db)? = srcs["db"]?.value else { return XCTFail("db") }
        XCTAssertEqual(db["paths"]?.value, .array([TOMLNode(.string("/a"), line: 7), TOMLNode(.string("/b\\c"), line: 8)]))
        XCTAssertEqual(db["n"]?.value, .integer(-1000))
        XCTAssertEqual(db["on"]?.value, .boolean(true))
        guard case .array(let checks)? = db["check"]?.value else { return XCTFail("checks") }
        XCTAssertEqual(checks.map(\.line), [12, 14])
        guard case .table(let second) = checks[1].value else { return XCTFail("check table") }
        XCTAssertEqual(second["sql"]?.value, .string("SELECT \"x\"é"))
    }

    func testErrorsNameTheLine() {
        let cases: [(String, Int, String)] = [
            ("a = 1\na = 2", 2, "duplicate key a (first on line 1)"),
            ("[t]\n[t]", 2, "table [t] is defined twice"),
            ("x = 1.5", 1, "floats are not supported"),
            ("x = 1979-05-27", 1, "date"),
            ("x = \"open", 1, "not closed"),
            ("x = [1,\n2", 1, "not closed"),
            ("x = { a = 1", 1, "inline table"),
            ("x = bare", 1, "strings need quotes"),
            ("x = 1 y = 2", 1, "end of the line"),
            ("x = 01", 1, "leading zeros"),
            ("[a]\nb = 1\n[a.b]", 3, "not a table"),
            ("x = \"\"\"multi\"\"\"", 1, "multi-line"),
        ]
        for (text, line, fragment) in cases {
            XCTAssertThrowsError(try TOMLParser.parse(text), text) { e in
                guard let e = e as? TOMLError else { return XCTFail("\(e)") }
                XCTAssertEqual(e.line, line, text)
                XCTAssertTrue(e.message.contains(fragment), "\(text): \(e.message)")
            }
        }
    }
}

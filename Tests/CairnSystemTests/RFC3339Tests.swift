import CairnSystem
import XCTest

/// `RFC3339`: the one formatter of times in UTC, whole seconds, for the years the format can write.
final class RFC3339Tests: XCTestCase {
    func testWholeSecondsInUTCForTheYearsZeroToNineThousandNineHundredNinetyNine() {
        XCTAssertEqual(RFC3339.utc(0), "1970-01-01T00:00:00Z")
        XCTAssertEqual(RFC3339.utc(1_796_612_116), "2026-12-07T02:55:16Z")
        XCTAssertEqual(RFC3339.utc(-1), "1969-12-31T23:59:59Z")
        XCTAssertEqual(RFC3339.utc(253_402_300_799), "9999-12-31T23:59:59Z")
        XCTAssertEqual(RFC3339.utc(-62_167_219_200), "0000-01-01T00:00:00Z")
        XCTAssertNil(RFC3339.utc(253_402_300_800), "year 10000")
        XCTAssertNil(RFC3339.utc(-62_167_219_201), "year -1")
        XCTAssertNil(RFC3339.utc(Int64.max))
        XCTAssertNil(RFC3339.utc(Int64.min))
    }

    func testSecondsAsADoubleAreRoundedDown() {
        XCTAssertEqual(RFC3339.utc(seconds: 1_796_612_116.999), "2026-12-07T02:55:16Z")
        XCTAssertEqual(RFC3339.utc(seconds: -0.5), "1969-12-31T23:59:59Z")
        XCTAssertNil(RFC3339.utc(seconds: .nan))
        XCTAssertNil(RFC3339.utc(seconds: .infinity))
        XCTAssertNil(RFC3339.utc(seconds: 1e300))
    }
}

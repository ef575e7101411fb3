import CairnPlan
import XCTest

/// One duration grammar for plan files (whole numbers) and the command line (fractions allowed).
final class PlanDurationTests: XCTestCase {
    func testWholeDurations() {
        XCTAssertEqual(PlanDuration.seconds("90s"), 90)
        XCTAssertEqual(PlanDuration.seconds("1d12h"), 129_600)
        XCTAssertEqual(PlanDuration.seconds("2w"), 1_209_600)
        for bad in ["", "0s", "10", "h", "1.5h", "1x", "-1h", "١h", "9223372036854775807y", "99999999999999999999s"] {
            XCTAssertNil(PlanDuration.seconds(bad), bad)
        }
    }

    func testCommandLineDurationsTakeFractions() {
        XCTAssertEqual(PlanDuration.fractionalSeconds("1.5h"), 5400)
        XCTAssertEqual(PlanDuration.fractionalSeconds(".5m"), 30)
        XCTAssertEqual(PlanDuration.fractionalSeconds("1d12h"), 129_600)
        XCTAssertEqual(PlanDuration.fractionalSeconds("10m"), 600)
        for bad in ["", "0", "0s", "10", "m", "1..5h", "1.5", "1x", "-1h", "١h", String(repeating: "9", count: 400) + "y"] {
            XCTAssertNil(PlanDuration.fractionalSeconds(bad), bad)
        }
    }
}

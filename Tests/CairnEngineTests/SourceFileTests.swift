@testable import CairnEngine
import XCTest

/// The "racily clean" rule of `SourceFile.settle()`: a file whose ctime is
/// still the current tick of the clock that stamps ctimes is read only once
/// that tick has passed.
final class SourceFileTests: XCTestCase {
    func testRacyWaitOnlyForCtimesOfTheCurrentTick() {
        let now = (seconds: Int64(1_700_000_000), nanos: Int64(500_000_000))
        // Stamped in an earlier tick: any later write moves the ctime, no wait.
        XCTAssertNil(SourceFile.racyWait(ctimeSeconds: now.seconds, ctimeNanos: 499_000_000, now: now))
        XCTAssertNil(SourceFile.racyWait(ctimeSeconds: now.seconds - 1, ctimeNanos: 900_000_000, now: now))
        // Stamped in this tick (the coarse clock's value): wait, briefly.
        let same = SourceFile.racyWait(ctimeSeconds: now.seconds, ctimeNanos: now.nanos, now: now)
        XCTAssertNotNil(same)
        XCTAssertLessThanOrEqual(same ?? 0, 10_000_000)
        // A fine-grained stamp a little ahead of the coarse clock: wait until the clock passes it.
        let ahead = SourceFile.racyWait(ctimeSeconds: now.seconds, ctimeNanos: now.nanos + 3_000_000, now: now)
        XCTAssertEqual(ahead, 3_000_001 + 200_000)
        // Seconds only (no nanoseconds): the whole second must pass.
        let coarse = SourceFile.racyWait(ctimeSeconds: now.seconds, ctimeNanos: 0, now: now)
        XCTAssertEqual(coarse, 500_000_000 + 200_000)
        XCTAssertNil(SourceFile.racyWait(ctimeSeconds: now.seconds - 1, ctimeNanos: 0, now: now))
        // Far in the future (a clock stepped back): cannot be waited out.
        XCTAssertNil(SourceFile.racyWait(ctimeSeconds: now.seconds + 60, ctimeNanos: 1, now: now))
        // Overflowing values do not trap.
        XCTAssertNil(SourceFile.racyWait(ctimeSeconds: .max, ctimeNanos: 1, now: now))
    }
}

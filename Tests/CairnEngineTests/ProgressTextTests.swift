import CairnEngine
import XCTest

/// The progress line's text: done against total, percent, rate and ETA in one unit system.
final class ProgressTextTests: XCTestCase {
    func testDoneAgainstTotalWithPercentRateAndETA() {
        var c = WorkProgress.Counters()
        c.filesDone = 12; c.filesTotal = 40
        c.bytesDone = 1 << 30; c.bytesTotal = 4 << 30
        // 1 GiB in 10 s = 102.40 MiB/s; 3 GiB left = 30 s.
        XCTAssertEqual(ProgressText.line(c, verb: "backing up", elapsed: 10),
                       "backing up 12 of 40 files, 1.00 GiB of 4.00 GiB (25%), 102.40 MiB/s, ETA 0:30")
        c.bytesDone = 1 << 20
        // 1 MiB in 10 s: 4095 MiB left at 0.1 MiB/s = 40950 s.
        XCTAssertEqual(ProgressText.line(c, verb: "backing up", elapsed: 10).split(separator: ",").last, " ETA 11:22:30")
    }

    func testWhileTheScanRunsThereIsNoTotalAndNoETA() {
        var c = WorkProgress.Counters()
        c.filesDone = 5; c.bytesDone = 1536
        XCTAssertEqual(ProgressText.line(c, verb: "backing up", elapsed: 2), "backing up 5 files, 1.50 KiB, 768 B/s")
        XCTAssertNil(ProgressText.percent(c))
    }

    func testEmptyTotalsAndOddDurations() {
        var c = WorkProgress.Counters()
        c.filesTotal = 3; c.bytesTotal = 0; c.filesDone = 3
        XCTAssertEqual(ProgressText.percent(c), 100)
        c.bytesTotal = 10; c.bytesDone = 20
        XCTAssertEqual(ProgressText.percent(c), 100, "never above 100 when a file grew")
        XCTAssertEqual(ProgressText.duration(.infinity), "?")
        XCTAssertEqual(ProgressText.duration(59.2), "1:00")
        XCTAssertEqual(ProgressText.duration(3600), "1:00:00")
        XCTAssertEqual(ProgressText.bytes(1023), "1023 B")
    }
}

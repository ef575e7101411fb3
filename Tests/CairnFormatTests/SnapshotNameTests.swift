import CairnFormat
import XCTest

/// The one rule every snapshot-making command checks `--name` against.
final class SnapshotNameTests: XCTestCase {
    func testNamesThatAreOnePathComponent() {
        for ok in ["pgdump", "redis", "etc.tar", "..x", "a b", "wal-2026", "ü"] { XCTAssertTrue(Snapshot.isValidName(ok), ok) }
        for bad in ["", ".", "..", "a/b", "/", "x\0y"] { XCTAssertFalse(Snapshot.isValidName(bad), bad.debugDescription) }
    }
}

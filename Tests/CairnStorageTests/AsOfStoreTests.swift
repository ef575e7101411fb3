import CairnStorage
import XCTest

/// `AsOfStore.view`: which version of each key a read "as of" a moment sees.
final class AsOfStoreTests: XCTestCase {
    private func v(_ name: String, _ id: String, _ at: Int64, marker: Bool = false, size: UInt64 = 1) -> ObjectVersion {
        ObjectVersion(key: ObjectKey(.snapshots, name), versionID: id, lastModifiedMillis: at, isDeleteMarker: marker, size: size)
    }

    func testTheNewestVersionAtOrBeforeTheMomentIsSeen() {
        // As S3 lists them: newest first per key.
        let listed = [
            v("a", "a3-garbage", 3_000, size: 7), v("a", "a2", 2_000, size: 20), v("a", "a1", 1_000, size: 10),
            v("b", "b-marker", 2_500, marker: true), v("b", "b1", 1_500),
            v("c", "c-marker", 1_200, marker: true), v("c", "c1", 1_100),
            v("d", "d1", 2_001),
            // Two versions in the same millisecond: the first listed is the newer.
            v("e", "e2", 1_800), v("e", "e1", 1_800),
        ]
        let view = AsOfStore.view(of: listed, asOf: 2_000)
        XCTAssertEqual(view[ObjectKey(.snapshots, "a")]?.version, "a2", "the version written exactly at the moment counts")
        XCTAssertEqual(view[ObjectKey(.snapshots, "a")]?.size, 20)
        XCTAssertEqual(view[ObjectKey(.snapshots, "b")]?.version, "b1", "a delete marker after the moment is not seen")
        XCTAssertNil(view[ObjectKey(.snapshots, "c")], "deleted before the moment: absent")
        XCTAssertNil(view[ObjectKey(.snapshots, "d")], "written after the moment: absent")
        XCTAssertEqual(view[ObjectKey(.snapshots, "e")]?.version, "e2")
        XCTAssertEqual(view.count, 3)
        XCTAssertTrue(AsOfStore.view(of: listed, asOf: 999).isEmpty)
    }

    func testTimesAreDescribedInRFC3339() {
        XCTAssertEqual(AsOfStore.describe(millis: 1_796_083_200_000), "2026-12-01T00:00:00Z")
        XCTAssertEqual(AsOfStore.describe(millis: 1_796_083_200_123), "2026-12-01T00:00:00.123Z")
    }
}

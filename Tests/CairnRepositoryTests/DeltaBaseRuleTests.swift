@testable import CairnRepository
import CairnFormat
import CairnIndex
import XCTest

/// The one rule every blob reader (readBlob, the restore's batch reads, copy) applies to a delta's
/// base before reading it (format-spec §8): named by an index, and stored whole.
final class DeltaBaseRuleTests: XCTestCase {
    func id(_ n: UInt8) -> ChunkID { ChunkID(bytes: [UInt8](repeating: n, count: 32))! }
    func packID(_ n: UInt8) -> PackID { PackID(bytes: [UInt8](repeating: n, count: 32))! }

    func testAWholeIndexedBaseIsUsable() throws {
        let at = BlobLocation(pack: packID(9), offset: 10, length: 100, rawLength: 90)
        XCTAssertEqual(try DeltaBaseRule.usable(id(1), at: at, forDelta: id(2), in: packID(8)), at)
    }

    func testAnUnindexedBaseIsDamageOfTheDelta() {
        XCTAssertThrowsError(try DeltaBaseRule.usable(id(1), at: nil, forDelta: id(2), in: packID(8), index: "of the source")) { error in
            guard case CairnError.damagedBlob(let blob, let pack, let reason)? = error as? CairnError else { return XCTFail("\(error)") }
            XCTAssertEqual(blob, id(2).hex)
            XCTAssertEqual(pack, id(8).hex)
            XCTAssertEqual(reason, "its delta base \(id(1).hex) is named by no index object of the source")
        }
    }

    func testABaseThatIsItselfADeltaIsRefused() {
        let chained = BlobLocation(pack: packID(9), offset: 0, length: 50, rawLength: 90, base: id(3))
        XCTAssertThrowsError(try DeltaBaseRule.usable(id(1), at: chained, forDelta: id(2), in: packID(8))) { error in
            guard case CairnError.damagedBlob(_, _, let reason)? = error as? CairnError else { return XCTFail("\(error)") }
            XCTAssertEqual(reason, "its delta base \(id(1).short) is itself a delta")
        }
    }
}

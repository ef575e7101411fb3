import CairnFormat
import Foundation
import XCTest

/// `format-spec/vectors/lock.json` (made by make_vectors.py from v1.md) both ways,
/// and the decoder's rejections.
final class LockRecordVectorTests: XCTestCase {
    struct Fields: Decodable {
        var exclusive: Bool, host: String, pid: UInt32, startNanos: Int64, refreshNanos: Int64, user: String, operation: String
        var record: LockRecord {
            LockRecord(exclusive: exclusive, host: host, pid: pid, startNanos: startNanos, refreshNanos: refreshNanos, user: user, operation: operation)
        }
    }
    struct File: Decodable { struct V: Decodable { var name: String; var value: Fields; var hex: String }; var vectors: [V] }

    func testVectors() throws {
        let url = SpecVectorTests.directory.appendingPathComponent("lock.json")
        let file = try JSONDecoder().decode(File.self, from: Data(contentsOf: url))
        XCTAssertEqual(file.vectors.count, 2)
        for v in file.vectors {
            let built = v.value.record
            XCTAssertEqual(Hex.encode(built.encoded()), v.hex, v.name)
            let bytes = try XCTUnwrap(Hex.decode(v.hex))
            XCTAssertEqual(try LockRecord.decode(bytes), built, v.name)
        }
    }

    func testRejections() throws {
        let good = LockRecord(exclusive: true, host: "h", pid: 1, startNanos: 2, refreshNanos: 3, user: "u", operation: "prune").encoded()
        XCTAssertThrowsError(try LockRecord.decode(good + [0])) { XCTAssertEqual($0 as? FormatError, .invalid(what: "lock", reason: "1 unexpected trailing bytes")) }
        for n in 0..<good.count {
            XCTAssertThrowsError(try LockRecord.decode(Array(good.prefix(n))), "prefix \(n)")
        }
        var v2 = good; v2[0] = 2
        XCTAssertThrowsError(try LockRecord.decode(v2)) { XCTAssertEqual($0 as? FormatError, .unsupportedVersion(what: "lock", version: 2, supported: 1)) }
        var flag = good; flag[1] = 2
        XCTAssertThrowsError(try LockRecord.decode(flag))
        XCTAssertEqual(Hex.encode(ObjectEnvelope.header(.lock)), "43524e4c0100")
    }
}

import CairnFormat
import Foundation
import XCTest

/// `format-spec/vectors/forget-record.json` (made by make_vectors.py from v1.md)
/// both ways, and the decoder's rejections.
final class ForgetRecordVectorTests: XCTestCase {
    struct Fields: Decodable {
        var timeNanos: Int64, snapshots: [String]
        func record() throws -> ForgetRecord { ForgetRecord(timeNanos: timeNanos, snapshots: try snapshots.map { try XCTUnwrap(SnapshotID(hex: $0)) }) }
    }
    struct File: Decodable { struct V: Decodable { var name: String; var value: Fields; var hex: String }; var vectors: [V] }

    func testVectors() throws {
        let url = SpecVectorTests.directory.appendingPathComponent("forget-record.json")
        let file = try JSONDecoder().decode(File.self, from: Data(contentsOf: url))
        XCTAssertEqual(file.vectors.count, 2)
        for v in file.vectors {
            let built = try v.value.record()
            XCTAssertEqual(Hex.encode(built.encoded()), v.hex, v.name)
            XCTAssertEqual(try ForgetRecord.decode(try XCTUnwrap(Hex.decode(v.hex))), built, v.name)
        }
        XCTAssertEqual(Hex.encode(ObjectEnvelope.header(.forgetRecord)), "43524e460100")
    }

    func testRejections() throws {
        let id = SnapshotID(bytes: [UInt8](repeating: 7, count: 32))!
        let good = ForgetRecord(timeNanos: 5, snapshots: [id, id]).encoded()
        XCTAssertThrowsError(try ForgetRecord.decode(good + [0]))
        for n in 0..<good.count { XCTAssertThrowsError(try ForgetRecord.decode(Array(good.prefix(n))), "prefix \(n)") }
        var v2 = good; v2[0] = 2
        XCTAssertThrowsError(try ForgetRecord.decode(v2)) {
            XCTAssertEqual($0 as? FormatError, .unsupportedVersion(what: "forget record", version: 2, supported: 1))
        }
        // A count the bytes left cannot hold is refused before anything is allocated.
        var huge = ByteWriter(); huge.u8(1); huge.i64(0); huge.varint(UInt64(1) << 40)
        XCTAssertThrowsError(try ForgetRecord.decode(huge.bytes))
    }
}

import CairnFormat
import Foundation
import XCTest

/// `format-spec/vectors/key-replacement.json` (made by make_vectors.py from v1.md)
/// both ways, and the decoder's rejections.
final class KeyReplacementVectorTests: XCTestCase {
    struct Fields: Decodable {
        var oldKey: String, newKey: String, timeNanos: Int64
        var record: KeyReplacement { KeyReplacement(oldKey: oldKey, newKey: newKey, timeNanos: timeNanos) }
    }
    struct File: Decodable { struct V: Decodable { var name: String; var value: Fields; var hex: String }; var vectors: [V] }

    func testVectors() throws {
        let url = SpecVectorTests.directory.appendingPathComponent("key-replacement.json")
        let file = try JSONDecoder().decode(File.self, from: Data(contentsOf: url))
        XCTAssertEqual(file.vectors.count, 2)
        for v in file.vectors {
            let built = v.value.record
            XCTAssertEqual(Hex.encode(built.encoded()), v.hex, v.name)
            XCTAssertEqual(try KeyReplacement.decode(try XCTUnwrap(Hex.decode(v.hex))), built, v.name)
        }
        XCTAssertEqual(Hex.encode(ObjectEnvelope.header(.keyReplacement)), "43524e520100")
    }

    func testRejections() throws {
        let good = KeyReplacement(oldKey: "a", newKey: "b", timeNanos: 3).encoded()
        XCTAssertThrowsError(try KeyReplacement.decode(good + [0]))
        for n in 0..<good.count { XCTAssertThrowsError(try KeyReplacement.decode(Array(good.prefix(n))), "prefix \(n)") }
        var v2 = good; v2[0] = 2
        XCTAssertThrowsError(try KeyReplacement.decode(v2)) {
            XCTAssertEqual($0 as? FormatError, .unsupportedVersion(what: "key replacement record", version: 2, supported: 1))
        }
        XCTAssertThrowsError(try KeyReplacement.decode(KeyReplacement(oldKey: "a", newKey: "a", timeNanos: 0).encoded()), "the same key twice")
        XCTAssertThrowsError(try KeyReplacement.decode(KeyReplacement(oldKey: "", newKey: "b", timeNanos: 0).encoded()), "an empty name")
        XCTAssertTrue(KeyReplacement.isRecordName("replace-00"))
        XCTAssertFalse(KeyReplacement.isRecordName(String(repeating: "0", count: 64)))
    }
}

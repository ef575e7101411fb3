import CairnFormat
import Foundation
import XCTest

/// Format v2 (format-spec/v2.md): the vectors of `v2-snapshot-catalogue.json`
/// and `v2-forget-record-set.json` (made by make_vectors.py from v2.md) both
/// ways, the version-2 envelope headers, and the decoders' rejections.
final class FormatV2VectorTests: XCTestCase {
    struct CatalogueFields: Decodable {
        struct Entry: Decodable { var id: String; var snapshot: SnapshotFields }
        var entries: [Entry]
        func make() throws -> SnapshotCatalogue {
            SnapshotCatalogue(entries: try entries.map { .init(id: try XCTUnwrap(SnapshotID(hex: $0.id)), plaintext: try $0.snapshot.make().encoded()) })
        }
    }
    struct ForgetSetFields: Decodable {
        struct Entry: Decodable { var id: String; var timeNanos: Int64 }
        var entries: [Entry]
        func make() throws -> ForgetRecordSet {
            ForgetRecordSet(entries: try entries.map { .init(id: try XCTUnwrap(SnapshotID(hex: $0.id)), timeNanos: $0.timeNanos) })
        }
    }
    struct File<V: Decodable>: Decodable { struct Vector: Decodable { var name: String; var value: V; var hex: String }; var vectors: [Vector] }

    private func load<V: Decodable>(_ name: String, _: V.Type) throws -> [File<V>.Vector] {
        let url = SpecVectorTests.directory.appendingPathComponent(name)
        return try JSONDecoder().decode(File<V>.self, from: Data(contentsOf: url)).vectors
    }

    func testSnapshotCatalogueVectors() throws {
        let vectors = try load("v2-snapshot-catalogue.json", CatalogueFields.self)
        XCTAssertEqual(vectors.count, 2)
        for v in vectors {
            let built = try v.value.make()
            XCTAssertEqual(Hex.encode(built.encoded()), v.hex, v.name)
            let decoded = try SnapshotCatalogue.decode(try XCTUnwrap(Hex.decode(v.hex)))
            XCTAssertEqual(decoded, built, v.name)
            // Each entry's plaintext is a snapshot as v1.md §13 encodes it.
            for e in decoded.entries { XCTAssertEqual(try Snapshot.decode(e.plaintext).encoded(), e.plaintext) }
        }
    }

    func testForgetRecordSetVectors() throws {
        let vectors = try load("v2-forget-record-set.json", ForgetSetFields.self)
        XCTAssertEqual(vectors.count, 2)
        for v in vectors {
            let built = try v.value.make()
            XCTAssertEqual(Hex.encode(built.encoded()), v.hex, v.name)
            XCTAssertEqual(try ForgetRecordSet.decode(try XCTUnwrap(Hex.decode(v.hex))), built, v.name)
        }
    }

    func testVersion2EnvelopeHeaders() throws {
        struct Headers: Decodable { var headersV2: [String: String] }
        let file = try JSONDecoder().decode(Headers.self, from: Data(contentsOf: SpecVectorTests.directory.appendingPathComponent("object-envelope.json")))
        XCTAssertEqual(file.headersV2, ["config": Hex.encode(ObjectEnvelope.header(.config, version: 2)),
                                        "snapshot-catalogue": Hex.encode(ObjectEnvelope.header(.snapshot, version: 2)),
                                        "forget-record-set": Hex.encode(ObjectEnvelope.header(.forgetRecord, version: 2))])
        XCTAssertEqual(ObjectEnvelope.newestFormatVersion, 2)
        // The kinds whose layout format 2 kept stay at envelope version 1.
        for kind in [ObjectKind.index, .key, .lock, .keyReplacement] { XCTAssertEqual(ObjectEnvelope.versions(kind), 1...1) }
    }

    /// Sorting and duplicates: one encoding per set of entries.
    func testOneEncodingPerSet() throws {
        let a = SnapshotID(bytes: [UInt8](repeating: 1, count: 32))!, b = SnapshotID(bytes: [UInt8](repeating: 2, count: 32))!
        XCTAssertEqual(SnapshotCatalogue(entries: [.init(id: b, plaintext: [2]), .init(id: a, plaintext: [1]), .init(id: b, plaintext: [3])]).entries,
                       [.init(id: a, plaintext: [1]), .init(id: b, plaintext: [2])])
        XCTAssertEqual(ForgetRecordSet(entries: [.init(id: b, timeNanos: 5), .init(id: a, timeNanos: 1), .init(id: b, timeNanos: 9)]).entries,
                       [.init(id: a, timeNanos: 1), .init(id: b, timeNanos: 9)])
    }

    func testRejections() throws {
        let a = SnapshotID(bytes: [UInt8](repeating: 1, count: 32))!, b = SnapshotID(bytes: [UInt8](repeating: 2, count: 32))!
        let catalogue = SnapshotCatalogue(entries: [.init(id: a, plaintext: [9, 9]), .init(id: b, plaintext: [])]).encoded()
        let set = ForgetRecordSet(entries: [.init(id: a, timeNanos: 1), .init(id: b, timeNanos: 2)]).encoded()
        for (bytes, decode) in [(catalogue, { (x: [UInt8]) in _ = try SnapshotCatalogue.decode(x) }),
                                (set, { (x: [UInt8]) in _ = try ForgetRecordSet.decode(x) })] {
            XCTAssertNoThrow(try decode(bytes))
            XCTAssertThrowsError(try decode(bytes + [0]), "trailing byte")
            for n in 0..<bytes.count { XCTAssertThrowsError(try decode(Array(bytes.prefix(n))), "prefix \(n)") }
            var v2 = bytes; v2[0] = 2
            XCTAssertThrowsError(try decode(v2)) { XCTAssertEqual(($0 as? FormatError).map { "\($0)" }?.contains("format version 2"), true) }
            // A count the bytes left cannot hold is refused before anything is allocated.
            var huge = ByteWriter(); huge.u8(1); huge.varint(UInt64(1) << 40)
            XCTAssertThrowsError(try decode(huge.bytes))
        }
        // Entries out of order, or an id twice: refused (a reader would otherwise pick one).
        var swapped = ByteWriter(); swapped.u8(1); swapped.varint(2); swapped.id(b); swapped.data([]); swapped.id(a); swapped.data([])
        XCTAssertThrowsError(try SnapshotCatalogue.decode(swapped.bytes))
        var twice = ByteWriter(); twice.u8(1); twice.varint(2); twice.id(a); twice.i64(1); twice.id(a); twice.i64(2)
        XCTAssertThrowsError(try ForgetRecordSet.decode(twice.bytes))
    }
}

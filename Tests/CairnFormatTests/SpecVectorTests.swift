import Foundation
import XCTest
import CairnFormat

/// The vectors in `format-spec/vectors`, made by an independent encoder
/// (`make_vectors.py`) from the field values they list: each object built from
/// its fields must encode to `hex`, and `hex` must decode to that object and
/// encode back to the same bytes.
final class SpecVectorTests: XCTestCase {
    /// `format-spec/vectors`, found from this file's path, not from resources.
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("format-spec/vectors")

    struct VectorFile<Value: Decodable>: Decodable {
        struct Vector: Decodable { var name: String; var value: Value; var hex: String; var dataLength: UInt64?; var headerHex: String? }
        var vectors: [Vector]
    }

    private func load<Value: Decodable>(_ name: String, as: Value.Type) throws -> [VectorFile<Value>.Vector] {
        let data = try Data(contentsOf: Self.directory.appendingPathComponent(name))
        let vectors = try JSONDecoder().decode(VectorFile<Value>.self, from: data).vectors
        XCTAssertFalse(vectors.isEmpty, name)
        return vectors
    }

    /// Checks encode(value) == hex, decode(hex) == value, encode(decode(hex)) == hex.
    private func check<T: Equatable>(_ file: String, _ name: String, built: T, hex: String,
                                     encode: (T) -> [UInt8], decode: ([UInt8]) throws -> T) throws {
        let bytes = try XCTUnwrap(Hex.decode(hex), "\(file) \(name): bad hex")
        XCTAssertEqual(Hex.encode(encode(built)), hex, "\(file) \(name): encoding differs")
        let decoded = try decode(bytes)
        XCTAssertEqual(decoded, built, "\(file) \(name): decoded value differs")
        XCTAssertEqual(encode(decoded), bytes, "\(file) \(name): re-encoding differs")
    }

    func testTree() throws {
        for v in try load("tree.json", as: TreeFields.self) {
            try check("tree.json", v.name, built: try v.value.make(), hex: v.hex, encode: { $0.encoded() }, decode: Tree.decode)
        }
    }

    func testSnapshot() throws {
        for v in try load("snapshot.json", as: SnapshotFields.self) {
            try check("snapshot.json", v.name, built: try v.value.make(), hex: v.hex, encode: { $0.encoded() }, decode: Snapshot.decode)
        }
    }

    func testPackHeader() throws {
        for v in try load("pack-header.json", as: PackHeaderFields.self) {
            let length = try XCTUnwrap(v.dataLength)
            try check("pack-header.json", v.name, built: try v.value.make(), hex: v.hex, encode: { $0.encoded() },
                      decode: { try PackHeader.decode($0, dataLength: length) })
        }
    }

    func testIndexDelta() throws {
        for v in try load("index-delta.json", as: IndexDeltaFields.self) {
            try check("index-delta.json", v.name, built: try v.value.make(), hex: v.hex, encode: { $0.encoded() }, decode: IndexDelta.decode)
        }
    }

    func testRepositoryConfig() throws {
        for v in try load("repository-config.json", as: ConfigFields.self) {
            try check("repository-config.json", v.name, built: try v.value.make(), hex: v.hex, encode: { $0.encoded() },
                      decode: RepositoryConfig.decode)
        }
    }

    func testContentRef() throws {
        for v in try load("content-ref.json", as: ContentRefFields.self) {
            try check("content-ref.json", v.name, built: try v.value.make(), hex: v.hex, encode: { $0.encodedListBlob() },
                      decode: ContentRef.decodeListBlob)
        }
    }

    func testKeyFileLayout() throws {
        for v in try load("key-file-layout.json", as: KeyFileFields.self) {
            let key = try v.value.make()
            try check("key-file-layout.json", v.name, built: key, hex: v.hex, encode: { $0.encoded() }, decode: KeyFile.decode)
            XCTAssertEqual(Hex.encode(key.header()), v.headerHex)
        }
    }

    func testObjectEnvelopeHeaders() throws {
        struct File: Decodable { var headers: [String: String] }
        let file = try JSONDecoder().decode(File.self, from: Data(contentsOf: Self.directory.appendingPathComponent("object-envelope.json")))
        let kinds: [String: ObjectKind] = ["config": .config, "index": .index, "snapshot": .snapshot, "key": .key, "lock": .lock,
                                            "key-replacement": .keyReplacement, "forget-record": .forgetRecord]
        XCTAssertEqual(Set(file.headers.keys), Set(kinds.keys))
        for (name, kind) in kinds {
            XCTAssertEqual(Hex.encode(ObjectEnvelope.header(kind)), file.headers[name], name)
        }
    }

    func testFastCDC() throws {
        struct File: Decodable {
            struct Input: Decodable { var generator: String; var seed: String; var size: Int; var prefixHex: String }
            struct Parameters: Decodable { var minimumSize, averageSize, maximumSize: Int; var normalization: UInt8; var seed: String }
            struct Vector: Decodable { var input: Input; var parameters: Parameters; var cuts: [Int] }
            var vectors: [Vector]
        }
        let file = try JSONDecoder().decode(File.self, from: Data(contentsOf: Self.directory.appendingPathComponent("fastcdc.json")))
        XCTAssertFalse(file.vectors.isEmpty)
        for v in file.vectors {
            XCTAssertEqual(v.input.generator, "splitmix64")
            var rng = SplitMix64(seed: try XCTUnwrap(parseHexUInt64(v.input.seed)))
            let input = rng.bytes(v.input.size)
            XCTAssertEqual(Hex.encode(input.prefix(16)), v.input.prefixHex)
            let p = v.parameters
            let params = ChunkerParameters(minimumSize: p.minimumSize, averageSize: p.averageSize, maximumSize: p.maximumSize,
                                           normalization: p.normalization, seed: try XCTUnwrap(parseHexUInt64(p.seed)))
            XCTAssertEqual(try FastCDC(params).lengths(of: input), v.cuts, "\(params)")
        }
    }
}

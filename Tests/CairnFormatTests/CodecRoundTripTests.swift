import XCTest
import CairnFormat

/// Every codec decodes what it encodes, and the result encodes to the same bytes.
final class CodecRoundTripTests: XCTestCase {
    func testTree() throws {
        let bytes = Fixtures.tree.encoded()
        let decoded = try Tree.decode(bytes)
        XCTAssertEqual(decoded, Fixtures.tree)
        XCTAssertEqual(decoded.encoded(), bytes)
        XCTAssertEqual(decoded.node(named: [0xFF, 0xFE, 0x41])?.displayName, "\\xff\\xfeA")  // escaped (EscapedText)
        XCTAssertEqual(decoded.node(named: Array("dir".utf8))?.subtree, Fixtures.id(3))
        XCTAssertEqual(try Tree.decode(Tree(nodes: []).encoded()), Tree(nodes: []))
    }

    func testTreeSortsByNameBytesSoOrderDoesNotMatter() throws {
        let shuffled = Tree(nodes: Fixtures.tree.nodes.reversed())
        XCTAssertEqual(shuffled.encoded(), Fixtures.tree.encoded())
        XCTAssertEqual(Fixtures.tree.nodes.map(\.name), Fixtures.tree.nodes.map(\.name).sorted { $0.lexicographicallyPrecedes($1) })
    }

    func testSnapshotWithAndWithoutParentAndExtra() throws {
        for s in [Fixtures.snapshotWithParent, Fixtures.snapshotMinimal] {
            let bytes = s.encoded()
            let decoded = try Snapshot.decode(bytes)
            XCTAssertEqual(decoded, s)
            XCTAssertEqual(decoded.encoded(), bytes)
        }
        XCTAssertNil(try Snapshot.decode(Fixtures.snapshotMinimal.encoded()).parent)
    }

    func testSnapshotExtraIsWrittenInUTF8ByteOrder() throws {
        // "Å" (U+212B, e2 84 ab) sorts before "Æ" (U+00C6, c3 86) as a Swift String, after it as bytes.
        var s = Fixtures.snapshotMinimal
        s.extra = ["\u{212B}": "1", "\u{C6}": "2", "a": "3"]
        let bytes = s.encoded()
        let tail = Array("a".utf8) + [1] + Array("3".utf8) + [2] + Array("\u{C6}".utf8) + [1] + Array("2".utf8) + [3] + Array("\u{212B}".utf8)
        XCTAssertNotNil(bytes.firstRange(of: tail), "extra keys not in byte order")
        XCTAssertEqual(try Snapshot.decode(bytes), s)
    }

    func testPackHeaders() throws {
        for (h, length) in [(Fixtures.dataPackHeader, Fixtures.dataPackLength), (Fixtures.metadataPackHeader, Fixtures.metadataPackLength),
                            (PackHeader(type: .data, entries: []), 0)] {
            let bytes = h.encoded()
            XCTAssertEqual(Array(bytes.prefix(6)), Array("CRNP".utf8) + [1, h.type.rawValue])
            let decoded = try PackHeader.decode(bytes, dataLength: length)
            XCTAssertEqual(decoded, h)
            XCTAssertEqual(decoded.encoded(), bytes)
        }
    }

    func testIndexDelta() throws {
        for d in [Fixtures.indexDelta, IndexDelta(packs: [])] {
            let bytes = d.encoded()
            let decoded = try IndexDelta.decode(bytes)
            XCTAssertEqual(decoded, d)
            XCTAssertEqual(decoded.encoded(), bytes)
        }
    }

    func testContentRefListBlob() throws {
        for c in [Fixtures.contentRef, ContentRef(), ContentRef(level: 8, ids: [Fixtures.id(1)]),
                  ContentRef(level: 0, ids: (0..<ContentRef.fanout).map { Fixtures.id(UInt8(truncatingIfNeeded: $0)) })] {
            let bytes = c.encodedListBlob()
            XCTAssertEqual(bytes.count, 1 + (c.ids.count < 128 ? 1 : 2) + 32 * c.ids.count)
            let decoded = try ContentRef.decodeListBlob(bytes)
            XCTAssertEqual(decoded, c)
            XCTAssertEqual(decoded.encodedListBlob(), bytes)
        }
    }

    func testRepositoryConfig() throws {
        var custom = Fixtures.config
        custom.compressionLevel = -7; custom.packSize = 1 << 16; custom.createdNanos = .min
        custom.profiles = [ChunkerProfile(name: "x", minimumSize: 64, averageSize: 256, maximumSize: 1024, normalization: 3)]
        for c in [Fixtures.config, custom] {
            let bytes = c.encoded()
            let decoded = try RepositoryConfig.decode(bytes)
            XCTAssertEqual(decoded, c)
            XCTAssertEqual(decoded.encoded(), bytes)
        }
        XCTAssertEqual(Fixtures.config.profile(named: "wal")?.averageSize, 256 << 10)
        XCTAssertNil(Fixtures.config.profile(named: "nope"))
        XCTAssertEqual(Fixtures.config.repositoryIDHex, Hex.encode(Array(0..<32)))
    }

    func testKeyFile() throws {
        let bytes = Fixtures.keyFile.encoded()
        let decoded = try KeyFile.decode(bytes)
        XCTAssertEqual(decoded, Fixtures.keyFile)
        XCTAssertEqual(decoded.encoded(), bytes)
        // The header (AEAD associated data) is everything before the sealed key's length.
        let header = Fixtures.keyFile.header()
        XCTAssertEqual(Array(bytes.prefix(header.count)), header)
        XCTAssertEqual(Array(bytes[header.count...]), [60] + Array(0..<60))
        XCTAssertEqual(Array(header.prefix(6)), ObjectEnvelope.header(.key))
    }

    func testObjectEnvelope() throws {
        for kind in ObjectKind.allCases {
            let header = ObjectEnvelope.header(kind)
            XCTAssertEqual(header, kind.magic + [1, 0])
            XCTAssertEqual(header.count, ObjectEnvelope.headerLength)
            XCTAssertEqual(try ObjectEnvelope.open(header + [9, 8, 7], kind: kind), [9, 8, 7])
            XCTAssertEqual(try ObjectEnvelope.open(header, kind: kind), [])
        }
        XCTAssertEqual(Set(ObjectKind.allCases.map(\.magic)).count, ObjectKind.allCases.count)
    }

    func testKeyLabels() {
        let id = Fixtures.id(1)
        XCTAssertEqual(KeyLabels.blobAAD(type: .tree, id: id), Array("cairn v1 blob".utf8) + [1] + id.bytes)
        XCTAssertEqual(KeyLabels.blobKeyMessage(type: .list, id: id), [2] + id.bytes)
        XCTAssertEqual(SealFraming.overhead, 28)
        XCTAssertEqual(BlobType.data.packType, .data)
        XCTAssertEqual(BlobType.tree.packType, .metadata)
        XCTAssertEqual(BlobType.list.packType, .metadata)
    }
}

import CairnFormat
import XCTest

final class DeltaFormatTests: XCTestCase {
    func id(_ n: UInt8) -> ChunkID { ChunkID(bytes: [UInt8](repeating: n, count: 32))! }

    func testBlobEntryWithBaseRoundTripsAndIsFlagged() throws {
        let entries = [BlobEntry(type: .data, id: id(1), offset: 0, length: 100, rawLength: 4000),
                       BlobEntry(type: .data, id: id(2), offset: 100, length: 60, rawLength: 4100, base: id(1))]
        let header = PackHeader(type: .data, entries: entries)
        let bytes = header.encoded()
        XCTAssertEqual(try PackHeader.decode(bytes, dataLength: 160), header)
        // The second entry's type byte carries the 0x80 flag and is followed by the base id.
        let second = bytes.firstRange(of: [0x80] + id(2).bytes)
        XCTAssertNotNil(second)
        XCTAssertEqual(Array(bytes.suffix(32)), id(1).bytes)
        let delta = IndexDelta(packs: [IndexedPack(id: PackID(bytes: [UInt8](repeating: 9, count: 32))!, type: .data, size: 200, entries: entries)])
        XCTAssertEqual(try IndexDelta.decode(delta.encoded()), delta)
    }

    func testOnlyDataBlobsMayHaveABase() {
        let bad = PackHeader(type: .metadata, entries: [BlobEntry(type: .tree, id: id(1), offset: 0, length: 10, rawLength: 10, base: id(2))])
        XCTAssertThrowsError(try PackHeader.decode(bad.encoded(), dataLength: 10))
    }

    func testBlobAADBindsTheBase() {
        XCTAssertNotEqual(KeyLabels.blobAAD(type: .data, id: id(1)), KeyLabels.blobAAD(type: .data, id: id(1), base: id(2)))
        XCTAssertEqual(KeyLabels.blobAAD(type: .data, id: id(1), base: id(2)).suffix(32), ArraySlice(id(2).bytes))
    }

    /// The exact values, computed by an independent Python implementation of
    /// the same definition: super-features live in caches, so an optimisation
    /// must not change them.
    func testSuperFeatureValuesArePinned() {
        func lcg(_ n: Int, seed: UInt64) -> [UInt8] {
            var s = seed
            return (0..<n).map { _ in s = s &* 6364136223846793005 &+ 1442695040888963407; return UInt8(s >> 56) }
        }
        let text = Array(String(repeating: "INSERT INTO orders VALUES (1234, 'customer-42', 17.50, '2026-11-29');\n", count: 300).utf8.prefix(16_384))
        XCTAssertEqual(SimilarityFeatures.of(lcg(16_384, seed: 1)), [-5882366871781085898, 6869186912012974660, 7425252668066482266])
        XCTAssertEqual(SimilarityFeatures.of(lcg(4096, seed: 7)), [235027278644941253, -2076074473072195111, -8692570778840288753])
        XCTAssertEqual(SimilarityFeatures.of(text), [7884478614265140094, -286760486815878081, 8979779669773744440])
    }

    /// Chunks that differ in a few scattered bytes share a super-feature; unrelated chunks do not.
    func testSimilarChunksShareSuperFeaturesAndUnrelatedDoNot() {
        var rng = SplitMix64(seed: 99)
        func text(_ n: Int) -> [UInt8] {
            var out: [UInt8] = []
            while out.count < n {
                out += Array("\(rng.next() % 1_000_000)\tuser\(rng.next() % 10_000)\t\(rng.next() % 1000).\(rng.next() % 100)\n".utf8)
            }
            return Array(out.prefix(n))
        }
        var similarHits = 0, unrelatedHits = 0
        for _ in 0..<60 {
            let a = text(16_384)
            var b = a
            for _ in 0..<8 { let p = Int(rng.next() % UInt64(b.count)); b[p] = UInt8(truncatingIfNeeded: rng.next()) }
            let fa = SimilarityFeatures.of(a)!, fb = SimilarityFeatures.of(b)!, fc = SimilarityFeatures.of(text(16_384))!
            if !Set(fa).isDisjoint(with: fb) { similarHits += 1 }
            if !Set(fa).isDisjoint(with: fc) { unrelatedHits += 1 }
        }
        XCTAssertGreaterThanOrEqual(similarHits, 54, "at least 90% of near-copies must find each other")
        XCTAssertEqual(unrelatedHits, 0)
        XCTAssertNil(SimilarityFeatures.of([UInt8](repeating: 1, count: 100)))
    }
}

/// Trees with extended attributes are version 2; without any they stay version 1 byte for byte.
final class TreeXattrFormatTests: XCTestCase {
    func testVersionOneWithoutAttributesVersionTwoWithThem() throws {
        let plain = Node(name: Array("a".utf8), kind: .symlink, linkTarget: Array("t".utf8))
        let v1 = Tree(nodes: [plain]).encoded()
        XCTAssertEqual(v1.first, 1)
        var tagged = plain
        tagged.xattrs = [ExtendedAttribute(name: Array("user.b".utf8), value: [2]), ExtendedAttribute(name: Array("user.a".utf8), value: [])]
        let v2 = Tree(nodes: [tagged]).encoded()
        XCTAssertEqual(v2.first, 2)
        let decoded = try Tree.decode(v2)
        XCTAssertEqual(decoded.nodes[0].xattrs.map { String(decoding: $0.name, as: UTF8.self) }, ["user.a", "user.b"])
        XCTAssertEqual(decoded.encoded(), v2)
        // A version-2 tree that carries no attribute is not canonical and is refused.
        var forged = v1; forged[0] = 2; forged.append(0)
        XCTAssertThrowsError(try Tree.decode(forged))
        XCTAssertThrowsError(try Tree.decode([3, 0]))
    }
}

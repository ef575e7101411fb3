import XCTest
import CairnFormat

/// Malformed objects are rejected with a `FormatError`, never a trap.
final class CodecRejectionTests: XCTestCase {
    /// Every decoder under test, fed raw bytes.
    private static let decoders: [(name: String, encoded: [UInt8], decode: @Sendable ([UInt8]) throws -> Void)] = [
        ("tree", Fixtures.tree.encoded(), { _ = try Tree.decode($0) }),
        ("snapshot", Fixtures.snapshotWithParent.encoded(), { _ = try Snapshot.decode($0) }),
        ("minimal snapshot", Fixtures.snapshotMinimal.encoded(), { _ = try Snapshot.decode($0) }),
        ("data pack header", Fixtures.dataPackHeader.encoded(), { _ = try PackHeader.decode($0, dataLength: Fixtures.dataPackLength) }),
        ("metadata pack header", Fixtures.metadataPackHeader.encoded(), { _ = try PackHeader.decode($0, dataLength: Fixtures.metadataPackLength) }),
        ("index delta", Fixtures.indexDelta.encoded(), { _ = try IndexDelta.decode($0) }),
        ("list blob", Fixtures.contentRef.encodedListBlob(), { _ = try ContentRef.decodeListBlob($0) }),
        ("config", Fixtures.config.encoded(), { _ = try RepositoryConfig.decode($0) }),
        ("key file", Fixtures.keyFile.encoded(), { _ = try KeyFile.decode($0) }),
    ]

    func testEveryTruncationThrows() {
        for d in Self.decoders {
            XCTAssertNoThrow(try d.decode(d.encoded), d.name)
            for n in 0..<d.encoded.count {
                XCTAssertThrowsError(try d.decode(Array(d.encoded.prefix(n))), "\(d.name) cut to \(n) bytes") {
                    XCTAssert($0 is FormatError, "\(d.name): \($0)")
                }
            }
        }
        for kind in ObjectKind.allCases {
            for n in 0..<ObjectEnvelope.headerLength {
                XCTAssertThrowsError(try ObjectEnvelope.open(Array(ObjectEnvelope.header(kind).prefix(n)), kind: kind)) {
                    XCTAssertEqual($0 as? FormatError, .truncated(what: kind.label))
                }
            }
        }
    }

    func testTrailingBytesThrow() {
        for d in Self.decoders {
            XCTAssertThrowsError(try d.decode(d.encoded + [0]), d.name) { error in
                guard case FormatError.invalid(_, let reason) = error else { return XCTFail("\(d.name): \(error)") }
                XCTAssert(reason.contains("trailing") || reason.contains("wrong length"), "\(d.name): \(reason)")
            }
        }
    }

    /// Random byte flips, insertions and deletions; and pure noise. Decoding may
    /// succeed or throw, but must not trap; a success must re-encode to its input.
    func testMutationsNeverTrap() {
        var rng = SplitMix64(seed: 0xBAD)
        var failures = 0, successes = 0
        for d in Self.decoders {
            for _ in 0..<3000 {
                var b = d.encoded
                for _ in 0...(rng.next() % 3) {
                    let i = Int(rng.next() % UInt64(b.count + 1))
                    switch rng.next() % 4 {
                    case 0 where i < b.count: b[i] = UInt8(truncatingIfNeeded: rng.next())
                    case 1 where i < b.count: b[i] ^= 1 << (rng.next() % 8)
                    case 2: b.insert(UInt8(truncatingIfNeeded: rng.next()), at: i)
                    default: if i < b.count { b.remove(at: i) }
                    }
                }
                do { try d.decode(b); successes += 1 } catch { XCTAssert(error is FormatError); failures += 1 }
            }
            for _ in 0..<500 {
                let noise = rng.bytes(Int(rng.next() % 200))
                do { try d.decode(noise) } catch { XCTAssert(error is FormatError) }
            }
        }
        XCTAssertGreaterThan(failures, successes)
    }

    /// Decoded objects re-encode to exactly the bytes they came from: the
    /// encodings are canonical, so a tree's id is a function of its content.
    func testSuccessfulDecodesAreCanonical() throws {
        var rng = SplitMix64(seed: 0xCA70)
        let base = Fixtures.tree.encoded()
        for _ in 0..<5000 {
            var b = base
            b[Int(rng.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: rng.next())
            if let t = try? Tree.decode(b) { XCTAssertEqual(t.encoded(), b) }
        }
        let snap = Fixtures.snapshotWithParent.encoded()
        for _ in 0..<5000 {
            var b = snap
            b[Int(rng.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: rng.next())
            if let s = try? Snapshot.decode(b) { XCTAssertEqual(s.encoded(), b) }
        }
    }

    func testBadMagic() {
        var h = Fixtures.dataPackHeader.encoded(); h[0] = UInt8(ascii: "X")
        XCTAssertThrowsError(try PackHeader.decode(h, dataLength: Fixtures.dataPackLength)) {
            XCTAssertEqual($0 as? FormatError, .badMagic(what: "pack header"))
        }
        var k = Fixtures.keyFile.encoded(); k[3] = UInt8(ascii: "C")
        XCTAssertThrowsError(try KeyFile.decode(k)) { XCTAssertEqual($0 as? FormatError, .badMagic(what: "key file")) }
        // An envelope of one kind opened as another.
        XCTAssertThrowsError(try ObjectEnvelope.open(ObjectEnvelope.header(.snapshot) + [1], kind: .index)) {
            XCTAssertEqual($0 as? FormatError, .badMagic(what: "index delta"))
        }
    }

    func testUnsupportedVersions() {
        func expectVersion(_ what: String, _ version: Int, _ body: () throws -> Void, line: UInt = #line) {
            XCTAssertThrowsError(try body(), line: line) {
                XCTAssertEqual($0 as? FormatError, .unsupportedVersion(what: what, version: version, supported: 1), line: line)
            }
        }
        func bumped(_ b: [UInt8], at i: Int, to v: UInt8) -> [UInt8] { var b = b; b[i] = v; return b }
        // Trees: versions 2 (extended attributes), 3 (special files) and 4 (wide times) are known, 5 is the first unknown one.
        for v: UInt8 in [0, 5] {
            XCTAssertThrowsError(try Tree.decode(bumped(Fixtures.tree.encoded(), at: 0, to: v))) {
                XCTAssertEqual($0 as? FormatError, .unsupportedVersion(what: "tree", version: Int(v), supported: 4))
            }
        }
        expectVersion("snapshot", 2, { _ = try Snapshot.decode(bumped(Fixtures.snapshotMinimal.encoded(), at: 0, to: 2)) })
        expectVersion("index delta", 9, { _ = try IndexDelta.decode(bumped(Fixtures.indexDelta.encoded(), at: 0, to: 9)) })
        // Config version 2 adds a shared chunker seed and 3 an Object Lock (§7): 4 is the first
        // unknown one, and a version-1 body relabelled 2 or 3 lacks what those versions add.
        XCTAssertThrowsError(try RepositoryConfig.decode(bumped(Fixtures.config.encoded(), at: 0, to: 4))) {
            XCTAssertEqual($0 as? FormatError, .unsupportedVersion(what: "repository config", version: 4, supported: 3))
        }
        XCTAssertThrowsError(try RepositoryConfig.decode(bumped(Fixtures.config.encoded(), at: 0, to: 2)))
        XCTAssertThrowsError(try RepositoryConfig.decode(bumped(Fixtures.config.encoded(), at: 0, to: 3)))
        expectVersion("pack header", 2, {
            _ = try PackHeader.decode(bumped(Fixtures.dataPackHeader.encoded(), at: 4, to: 2), dataLength: Fixtures.dataPackLength)
        })
        for kind in ObjectKind.allCases {
            // `open` takes version 1 only but for config; format 2's catalogues and merged records
            // are opened by `openVersioned`, which takes every version the kind has (format-spec v2.md).
            let newest = Int(ObjectEnvelope.versions(kind).upperBound)
            let openNewest = kind == .config ? newest : 1
            XCTAssertThrowsError(try ObjectEnvelope.open(kind.magic + [UInt8(openNewest + 1), 0, 1, 2, 3], kind: kind)) {
                XCTAssertEqual($0 as? FormatError, .unsupportedVersion(what: kind.label, version: openNewest + 1, supported: openNewest))
            }
            XCTAssertThrowsError(try ObjectEnvelope.openVersioned(kind.magic + [UInt8(newest + 1), 0, 1, 2, 3], kind: kind)) {
                XCTAssertEqual($0 as? FormatError, .unsupportedVersion(what: kind.label, version: newest + 1, supported: newest))
            }
            XCTAssertEqual(try ObjectEnvelope.openVersioned(kind.magic + [UInt8(newest), 0, 9], kind: kind).version, UInt16(newest))
            XCTAssertThrowsError(try ObjectEnvelope.openVersioned(kind.magic + [0, 0, 9], kind: kind))
            XCTAssertThrowsError(try ObjectEnvelope.open(kind.magic + [0, 1], kind: kind)) {
                XCTAssertEqual($0 as? FormatError, .unsupportedVersion(what: kind.label, version: 256, supported: openNewest))
            }
        }
        XCTAssertEqual(FormatError.unsupportedVersion(what: "repository config", version: 3, supported: 2).description,
                       "repository config has format version 3; this cairn reads versions 1 to 2: upgrade cairn")
        // Key file version 2 holds a keyring (§6, after a rotation): 3 is the first unknown one, and a
        // version-1 file relabelled 2 has a sealed field of the wrong length for a keyring.
        XCTAssertThrowsError(try KeyFile.decode(bumped(Fixtures.keyFile.encoded(), at: 4, to: 3))) {
            XCTAssertEqual($0 as? FormatError, .unsupportedVersion(what: "key file", version: 3, supported: 2))
        }
        XCTAssertThrowsError(try KeyFile.decode(bumped(Fixtures.keyFile.encoded(), at: 4, to: 2))) {
            XCTAssertTrue("\($0)".contains("wrapped keyring has wrong length"), "\($0)")
        }
        XCTAssert(FormatError.unsupportedVersion(what: "snapshot", version: 2, supported: 1).description.contains("upgrade cairn"))
    }

    func testUnsortedOrDuplicateTreeEntries() {
        // Swap the first two encoded nodes by rebuilding the bytes out of order.
        let a = Node(name: Array("a".utf8), kind: .symlink, linkTarget: [1])
        let b = Node(name: Array("b".utf8), kind: .symlink, linkTarget: [2])
        let ordered = Tree(nodes: [a, b]).encoded()
        let single = { (n: Node) in Array(Tree(nodes: [n]).encoded().dropFirst(2)) }
        XCTAssertEqual(ordered, [1, 2] + single(a) + single(b))
        for bytes in [[1, 2] + single(b) + single(a), [1, 2] + single(a) + single(a)] {
            XCTAssertThrowsError(try Tree.decode(bytes)) { error in
                guard case FormatError.invalid(_, let reason) = error else { return XCTFail("\(error)") }
                XCTAssert(reason.contains("not sorted"), reason)
            }
        }
    }

    func testUnsafeNames() {
        for name in ["", ".", "..", "a/b", "/", "a\0b"].map({ Array($0.utf8) }) {
            let node = Node(name: name, kind: .symlink, linkTarget: [1])
            XCTAssertThrowsError(try Tree.decode(Tree(nodes: [node]).encoded()), "\(name)") { error in
                guard case FormatError.invalid(_, let reason) = error else { return XCTFail("\(error)") }
                XCTAssert(reason.contains("unsafe entry name"), reason)
            }
        }
        for name in ["...", ".a", "a..", "\\", "é"].map({ Array($0.utf8) }) {
            XCTAssertNoThrow(try Tree.decode(Tree(nodes: [Node(name: name, kind: .file)]).encoded()), "\(name)")
        }
    }

    func testTreeFieldRejections() {
        let node = Array(Tree(nodes: [Node(name: [0x61], kind: .file)]).encoded().dropFirst(2))
        var badKind = node; badKind[0] = 4
        XCTAssertThrowsError(try Tree.decode([1, 1] + badKind))
        // uid of 2^32 does not fit.
        var w = ByteWriter()
        w.u8(1); w.varint(1); w.u8(1); w.data([0x61]); w.u32(0o644); w.varint(UInt64(1) << 32); w.varint(0)
        w.string(""); w.string(""); w.i64(0); w.i64(0); w.varint(0); w.varint(0); w.varint(0); w.u8(0); w.varint(0)
        XCTAssertThrowsError(try Tree.decode(w.bytes))
        // Content level above 8.
        let deep = Tree(nodes: [Node(name: [0x61], kind: .file, content: ContentRef(level: 9, ids: []))]).encoded()
        XCTAssertThrowsError(try Tree.decode(deep))
        XCTAssertThrowsError(try ContentRef.decodeListBlob([9, 0]))
    }

    /// Version 4 (times as seconds + nanoseconds) is written only when a time
    /// needs it, and read only then; nanoseconds stay below 1e9.
    func testWideTimeTrees() throws {
        var future = Node(name: Array("f".utf8), kind: .file)
        future.mtime = FileTime(seconds: 10_413_792_000, nanoseconds: 7)  // 2300-01-01
        let wide = Tree(nodes: [future]).encoded()
        XCTAssertEqual(wide.first, 4)
        XCTAssertEqual(try Tree.decode(wide).nodes[0].mtime, future.mtime)
        // Every Int64 nanosecond time keeps version 1, Int64.min and .max included.
        for nanos in [Int64.min, -1, 0, Int64.max] {
            let n = Node(name: [0x61], kind: .file, mtimeNanos: nanos, ctimeNanos: nanos)
            let bytes = Tree(nodes: [n]).encoded()
            XCTAssertEqual(bytes.first, 1)
            XCTAssertEqual(try Tree.decode(bytes).nodes[0].mtimeNanos, nanos)
        }
        // A version-4 tree whose times all fit i64 nanoseconds has a second encoding: refused.
        var w = ByteWriter()
        w.u8(4); w.varint(1); w.u8(1); w.data([0x61]); w.u32(0o644); w.varint(0); w.varint(0)
        w.string(""); w.string(""); w.i64(5); w.u32(0); w.i64(5); w.u32(0); w.varint(0); w.varint(0); w.varint(0); w.u8(0); w.varint(0)
        w.varint(0)
        XCTAssertThrowsError(try Tree.decode(w.bytes)) { XCTAssert("\($0)".contains("fit i64 nanoseconds"), "\($0)") }
        // Nanoseconds of 1e9 or more.
        var x = Array(wide)
        let at = 1 + 1 + 1 + 2 + 4 + 1 + 1 + 1 + 1 + 8  // version, count, kind, name, mode, uid, gid, user, group, mtime seconds
        x.replaceSubrange(at..<(at + 4), with: [0x00, 0xca, 0x9a, 0x3b])  // 1_000_000_000 little-endian
        XCTAssertThrowsError(try Tree.decode(x)) { XCTAssert("\($0)".contains("nanoseconds"), "\($0)") }
    }

    func testPackHeaderConsistency() {
        let e = Fixtures.dataPackHeader.entries
        func decode(_ entries: [BlobEntry], type: PackType = .data, length: UInt64) throws {
            _ = try PackHeader.decode(PackHeader(type: type, entries: entries).encoded(), dataLength: length)
        }
        func reason(_ body: () throws -> Void) -> String {
            do { try body(); return "no error" } catch FormatError.invalid(_, let r) { return r } catch { return "\(error)" }
        }
        // A gap, an overlap, a first blob not at 0.
        var gap = e; gap[1].offset += 1
        XCTAssert(reason { try decode(gap, length: Fixtures.dataPackLength + 1) }.contains("not contiguous"))
        var overlap = e; overlap[2].offset -= 1
        XCTAssert(reason { try decode(overlap, length: Fixtures.dataPackLength - 1) }.contains("not contiguous"))
        var late = e; for i in late.indices { late[i].offset += 10 }
        XCTAssert(reason { try decode(late, length: Fixtures.dataPackLength + 10) }.contains("not contiguous"))
        // Blobs not covering the data exactly.
        XCTAssert(reason { try decode(e, length: Fixtures.dataPackLength + 1) }.contains("pack holds"))
        XCTAssert(reason { try decode(e, length: Fixtures.dataPackLength - 1) }.contains("pack holds"))
        XCTAssert(reason { try decode([], length: 1) }.contains("pack holds"))
        // A tree blob in a data pack, a data blob in a metadata pack.
        var mixed = e; mixed[0].type = .tree
        XCTAssert(reason { try decode(mixed, length: Fixtures.dataPackLength) }.contains("does not match"))
        XCTAssert(reason { try decode(e, type: .metadata, length: Fixtures.dataPackLength) }.contains("does not match"))
        // Unknown pack and blob types.
        var h = Fixtures.dataPackHeader.encoded(); h[5] = 2
        XCTAssert(reason { _ = try PackHeader.decode(h, dataLength: Fixtures.dataPackLength) }.contains("unknown pack type"))
        var t = Fixtures.dataPackHeader.encoded(); t[7] = 3
        XCTAssert(reason { _ = try PackHeader.decode(t, dataLength: Fixtures.dataPackLength) }.contains("unknown blob type"))
    }

    func testIndexDeltaAndBlobEntryRanges() {
        var d = Fixtures.indexDelta.encoded()
        d[1 + 1 + 64 + 1 + 32] = 7  // first pack's type byte
        XCTAssertThrowsError(try IndexDelta.decode(d))
        // A blob length that does not fit in 32 bits.
        var w = ByteWriter()
        w.u8(1); w.varint(0); w.varint(1); w.id(Fixtures.id(1)); w.u8(0); w.varint(10); w.varint(1)
        w.u8(0); w.id(Fixtures.id(2)); w.varint(0); w.varint(UInt64(1) << 32); w.varint(1)
        XCTAssertThrowsError(try IndexDelta.decode(w.bytes))
    }

    func testSnapshotRejections() {
        // Parent flag other than 0 or 1.
        let minimal = Fixtures.snapshotMinimal.encoded()
        let flagAt = minimal.count - 1 - 4 - 1 - 1  // programVersion "", extra count, 4 varints, flag
        XCTAssertEqual(minimal[flagAt], 0)
        var bad = minimal; bad[flagAt] = 2
        XCTAssertThrowsError(try Snapshot.decode(bad))
        // Extra keys out of byte order, or repeated.
        func withExtra(_ pairs: [(String, String)]) -> [UInt8] {
            var w = ByteWriter(); w.varint(pairs.count); for (k, v) in pairs { w.string(k); w.string(v) }; w.string("")
            return Array(minimal.dropLast(2)) + w.bytes  // drop extra count and programVersion
        }
        XCTAssertNoThrow(try Snapshot.decode(withExtra([("a", "1"), ("b", "2")])))
        XCTAssertThrowsError(try Snapshot.decode(withExtra([("b", "1"), ("a", "2")])))
        XCTAssertThrowsError(try Snapshot.decode(withExtra([("a", "1"), ("a", "2")])))
        // Canonically equivalent spellings would collapse into one dictionary key.
        XCTAssertThrowsError(try Snapshot.decode(withExtra([("e\u{301}", "1"), ("\u{E9}", "2")])))
        // A name that is not UTF-8.
        var w = ByteWriter(); w.u8(1); w.i64(0); w.data([0xFF])
        XCTAssertThrowsError(try Snapshot.decode(w.bytes + Array(minimal.dropFirst(10))))
    }

    func testRepositoryConfigRejections() {
        var small = Fixtures.config; small.packSize = (1 << 16) - 1
        XCTAssertThrowsError(try RepositoryConfig.decode(small.encoded()))
        var badProfile = Fixtures.config
        badProfile.profiles = [ChunkerProfile(name: "x", minimumSize: 10, averageSize: 256, maximumSize: 1024)]
        XCTAssertThrowsError(try RepositoryConfig.decode(badProfile.encoded()))
        badProfile.profiles = [ChunkerProfile(name: "x", minimumSize: 64, averageSize: 256, maximumSize: 1024, normalization: 4)]
        XCTAssertThrowsError(try RepositoryConfig.decode(badProfile.encoded()))
        var many = Fixtures.config
        many.profiles = Array(repeating: RepositoryConfig.defaultProfiles[0], count: 65)
        XCTAssertThrowsError(try RepositoryConfig.decode(many.encoded()))
    }

    func testKeyFileRejections() {
        func variant(_ change: (inout KeyFile) -> Void) -> [UInt8] { var k = Fixtures.keyFile; change(&k); return k.encoded() }
        XCTAssertThrowsError(try KeyFile.decode(variant { $0.scrypt.logN = 9 }))
        XCTAssertThrowsError(try KeyFile.decode(variant { $0.scrypt.logN = 25 }))
        XCTAssertThrowsError(try KeyFile.decode(variant { $0.scrypt.r = 0 }))
        XCTAssertThrowsError(try KeyFile.decode(variant { $0.scrypt.p = 65 }))
        XCTAssertThrowsError(try KeyFile.decode(variant { $0.sealedMasterKey = Array(0..<59) }))
        XCTAssertThrowsError(try KeyFile.decode(variant { $0.sealedMasterKey = Array(0..<61) }))
        var kdf = Fixtures.keyFile.encoded(); kdf[6] = 2
        XCTAssertThrowsError(try KeyFile.decode(kdf)) { error in
            guard case FormatError.invalid(_, let reason) = error else { return XCTFail("\(error)") }
            XCTAssert(reason.contains("key derivation"), reason)
        }
        // The bounds of format-spec §6: the cost init writes with room above it, never what stalls every command.
        XCTAssertNoThrow(try KeyFile.decode(variant { $0.scrypt = ScryptParameters(logN: 15, r: 8, p: 1) }))
        XCTAssertNoThrow(try KeyFile.decode(variant { $0.scrypt = ScryptParameters(logN: 18, r: 8, p: 2) }))
        XCTAssertNoThrow(try KeyFile.decode(variant { $0.scrypt = ScryptParameters(logN: 20, r: 2, p: 1) }))
        XCTAssertNoThrow(try KeyFile.decode(variant { $0.scrypt = ScryptParameters(logN: 15, r: 1, p: 1) }))
        for (logN, r, p) in [(24, 64, 64), (22, 8, 1), (21, 1, 1), (19, 8, 1), (18, 8, 16), (15, 33, 1), (15, 8, 17), (17, 16, 16), (16, 1, 1)] as [(UInt8, UInt32, UInt32)] {
            XCTAssertThrowsError(try KeyFile.decode(variant { $0.scrypt = ScryptParameters(logN: logN, r: r, p: p) }), "logN=\(logN) r=\(r) p=\(p)") { error in
                guard case FormatError.invalid(_, let reason) = error else { return XCTFail("\(error)") }
                XCTAssert(reason.contains("scrypt"), reason)
            }
        }
    }
}

import CairnFormat
import XCTest

/// Typed source kinds and extra keys change no byte: a kind this version does not know is kept as it
/// is, and a typed key reads and writes the same `extra` entry as its string.
final class SnapshotTypedFieldsTests: XCTestCase {
    private let root = ChunkID(bytes: [UInt8](repeating: 9, count: 32))!

    func testSourceKindsRoundTripIncludingUnknownOnes() throws {
        for kind: Snapshot.SourceKind in [.tree, .stream, "pg-dump", "from-a-newer-writer"] {
            let s = Snapshot(timeNanos: 1, name: "n", host: "h", sourceKind: kind, root: root)
            let decoded = try Snapshot.decode(s.encoded())
            XCTAssertEqual(decoded.sourceKind, kind)
            XCTAssertEqual(decoded.encoded(), s.encoded())
        }
        // The kind is the same string on disk as before it was typed.
        let tree = Snapshot(timeNanos: 1, name: "n", host: "h", sourceKind: .tree, root: root).encoded()
        XCTAssertTrue(tree.windowed(Array("\u{4}tree".utf8)), "the kind is a length-prefixed \"tree\"")
        XCTAssertEqual(Snapshot.SourceKind.stream.rawValue, "stream")
    }

    func testTypedExtraKeysAreTheirStrings() throws {
        var extra = [String: String](extra: [.pgWALFile: "000000010000000000000001", .pgWALSHA256: "ab"])
        XCTAssertEqual(extra["pg-wal-file"], "000000010000000000000001")
        extra[.pgWALSize] = "16777216"
        XCTAssertEqual(extra["pg-wal-size"], "16777216")
        XCTAssertEqual(extra[.pgWALSHA256], "ab")
        XCTAssertNil(extra[.pgKind])
        let s = Snapshot(timeNanos: 1, name: "n", host: "h", sourceKind: .stream, root: root, extra: extra)
        XCTAssertEqual(try Snapshot.decode(s.encoded()).extra, ["pg-wal-file": "000000010000000000000001", "pg-wal-sha256": "ab", "pg-wal-size": "16777216"])
    }
}

private extension Array where Element == UInt8 {
    func windowed(_ needle: [UInt8]) -> Bool {
        guard needle.count <= count else { return false }
        return (0...(count - needle.count)).contains { Array(self[$0..<$0 + needle.count]) == needle }
    }
}

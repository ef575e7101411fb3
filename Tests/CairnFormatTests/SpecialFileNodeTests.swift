import CairnFormat
import XCTest

/// Tree version 3: FIFOs, devices and sockets as nodes of their own kind.
final class SpecialFileNodeTests: XCTestCase {
    private func device(_ name: String, _ kind: NodeKind, _ major: UInt32, _ minor: UInt32) -> Node {
        var n = Node(name: Array(name.utf8), kind: kind, mode: 0o660)
        n.deviceMajor = major; n.deviceMinor = minor
        return n
    }

    func testRoundTripAndLowestVersion() throws {
        let special = Tree(nodes: [Node(name: Array("p".utf8), kind: .fifo), Node(name: Array("s".utf8), kind: .socket),
                                   device("c", .characterDevice, 1, 3), device("b", .blockDevice, 259, 1 << 20),
                                   Node(name: Array("f".utf8), kind: .file)])
        let bytes = special.encoded()
        XCTAssertEqual(bytes.first, Tree.versionWithSpecialFiles)
        XCTAssertEqual(try Tree.decode(bytes), special)
        XCTAssertEqual(try Tree.decode(bytes).node(named: Array("b".utf8))?.deviceMinor, 1 << 20)
        // Without special nodes a tree keeps its version-1 bytes (ids do not change).
        let plain = Tree(nodes: [Node(name: Array("f".utf8), kind: .file)])
        XCTAssertEqual(plain.encoded().first, Tree.version)
        // With extended attributes as well: still version 3, and the attributes survive.
        var labelled = Node(name: Array("q".utf8), kind: .fifo)
        labelled.xattrs = [ExtendedAttribute(name: Array("user.a".utf8), value: [1, 2])]
        let both = Tree(nodes: [labelled])
        XCTAssertEqual(both.encoded().first, Tree.versionWithSpecialFiles)
        XCTAssertEqual(try Tree.decode(both.encoded()), both)
    }

    func testRejections() {
        // A special kind in a version 1 or 2 tree is unknown there.
        let fifo = Array(Tree(nodes: [Node(name: [0x61], kind: .fifo)]).encoded().dropFirst(2))
        XCTAssertThrowsError(try Tree.decode([1, 1] + fifo))
        // Version 3 without any special node: not the tree's one encoding.
        var w = ByteWriter()
        w.u8(3); w.varint(1); w.u8(1); w.data([0x61]); w.u32(0o644); w.varint(0); w.varint(0)
        w.string(""); w.string(""); w.i64(0); w.i64(0); w.varint(0); w.varint(0); w.varint(0); w.u8(0); w.varint(0); w.varint(0)
        XCTAssertThrowsError(try Tree.decode(w.bytes)) { error in
            guard case FormatError.invalid(_, let reason) = error else { return XCTFail("\(error)") }
            XCTAssert(reason.contains("version 3 tree without"), reason)
        }
        // A device number past 32 bits.
        var d = ByteWriter()
        d.u8(3); d.varint(1); d.u8(5); d.data([0x61]); d.u32(0o644); d.varint(0); d.varint(0)
        d.string(""); d.string(""); d.i64(0); d.i64(0); d.varint(0); d.varint(0); d.varint(0); d.varint(UInt64(1) << 32); d.varint(0); d.varint(0)
        XCTAssertThrowsError(try Tree.decode(d.bytes))
        // Every truncation of a version-3 tree throws.
        let bytes = Tree(nodes: [device("c", .characterDevice, 300, 70_000), Node(name: [0x73], kind: .socket)]).encoded()
        for n in 0..<bytes.count { XCTAssertThrowsError(try Tree.decode(Array(bytes.prefix(n))), "\(n)") }
    }
}

@testable import CairnEngine
import CairnFormat
import CSysXattr
import CairnTestSupport
import Foundation
import XCTest

/// Hard links come back as hard links; runs of zeros come back as holes.
final class HardLinkSparseTests: XCTestCase {
    func testHardLinksAndSparseFilesRestoreAsSuch() async throws {
        let dir = NSTemporaryDirectory() + "cairn-links-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let src = dir + "/src"
        try FileManager.default.createDirectory(atPath: src + "/sub", withIntermediateDirectories: true)
        let data = pseudoRandomBytes(300_000, seed: 4)
        try Data(data).write(to: URL(fileURLWithPath: src + "/a"))
        XCTAssertEqual(link(src + "/a", src + "/sub/b"), 0)
        // 16 MiB with data only at both ends: the middle is a hole in the source too.
        let fd = open(src + "/sparse", O_WRONLY | O_CREAT, 0o644)
        XCTAssertGreaterThanOrEqual(fd, 0)
        _ = data.withUnsafeBytes { write(fd, $0.baseAddress, 4096) }
        lseek(fd, 16 << 20, SEEK_SET)
        _ = data.withUnsafeBytes { write(fd, $0.baseAddress, 4096) }
        close(fd)

        let t = try await TestRepository.make()
        let r = try await Archiver(repo: t.repo, options: rootLayoutOptions("tree")).backup(paths: [src])
        let out = dir + "/out"
        _ = try await Restorer(repo: t.repo, snapshot: try t.repo.resolveSnapshot(r.snapshotID)).restore(to: out)

        var sa = stat(), sb = stat(), ss = stat(), orig = stat()
        XCTAssertEqual(stat(out + "/src/a", &sa), 0)
        XCTAssertEqual(stat(out + "/src/sub/b", &sb), 0)
        XCTAssertEqual(sa.st_ino, sb.st_ino, "b is a hard link to a again")
        XCTAssertEqual(sa.st_nlink, 2)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + "/src/sub/b")), Data(data))
        XCTAssertEqual(stat(src + "/sparse", &orig), 0)
        XCTAssertEqual(stat(out + "/src/sparse", &ss), 0)
        XCTAssertEqual(ss.st_size, orig.st_size)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + "/src/sparse")), try Data(contentsOf: URL(fileURLWithPath: src + "/sparse")))
        XCTAssertLessThan(Int(ss.st_blocks) * 512, Int(ss.st_size) / 4, "the zero run is a hole, not written zeros")
    }
}

/// Extended attributes are kept in the tree (version 2) and set again on restore.
final class ExtendedAttributeTests: XCTestCase {
    func testExtendedAttributesRoundTrip() async throws {
        let dir = NSTemporaryDirectory() + "cairn-xattr-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/src", withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/src/f"))
        try Data("y".utf8).write(to: URL(fileURLWithPath: dir + "/src/plain"))
        let value: [UInt8] = [0, 1, 2, 255] + Array("checksum=abc".utf8)
        guard setxattr(dir + "/src/f", "user.cairn.test", value, value.count, 0) == 0 else {
            throw XCTSkip("this file system has no user extended attributes")
        }
        let t = try await TestRepository.make()
        let r = try await Archiver(repo: t.repo, options: rootLayoutOptions("x")).backup(paths: [dir + "/src"])
        let root = try await t.repo.loadTree(r.snapshot.root)
        let tree = try await t.repo.loadTree(root.nodes[0].subtree!)
        XCTAssertEqual(tree.node(named: Array("f".utf8))?.xattrs, [ExtendedAttribute(name: Array("user.cairn.test".utf8), value: value)])
        XCTAssertEqual(tree.node(named: Array("plain".utf8))?.xattrs, [])
        _ = try await Restorer(repo: t.repo, snapshot: try t.repo.resolveSnapshot(r.snapshotID)).restore(to: dir + "/out")
        var buf = [UInt8](repeating: 0, count: 64)
        let n = getxattr(dir + "/out/src/f", "user.cairn.test", &buf, buf.count)
        XCTAssertEqual(n, value.count)
        XCTAssertEqual(Array(buf.prefix(max(n, 0))), value)
    }
}

/// Options that store the argument at the snapshot's root (as base backups do), so it restores as out/NAME.
func rootLayoutOptions(_ name: String) -> BackupOptions {
    var o = BackupOptions(name: name)
    o.fullPaths = false
    return o
}

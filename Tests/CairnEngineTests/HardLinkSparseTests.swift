@testable import CairnEngine
import CairnFormat
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
        let r = try await Archiver(repo: t.repo, options: BackupOptions(name: "tree")).backup(paths: [src])
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

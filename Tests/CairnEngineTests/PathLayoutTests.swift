@testable import CairnEngine
@testable import CairnRepository
import CairnFormat
import CairnTestSupport
import Foundation
import XCTest

/// Snapshots made before full paths (each argument at the root, named by its
/// last component) keep restoring as they did, and the next backup of the same
/// name finds its unchanged files in them.
final class PathLayoutTests: XCTestCase {
    func testRootLayoutSnapshotsRestoreAsBeforeAndSeedTheNextFullPathBackup() async throws {
        let dir = NSTemporaryDirectory() + "cairn-layout-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/src/sub", withIntermediateDirectories: true)
        let a = pseudoRandomBytes(300_000, seed: 1), b = pseudoRandomBytes(5_000, seed: 2)
        try Data(a).write(to: URL(fileURLWithPath: dir + "/src/a"))
        try Data(b).write(to: URL(fileURLWithPath: dir + "/src/sub/b"))
        let t = try await TestRepository.make()

        let old = try await Archiver(repo: t.repo, options: rootLayoutOptions("node")).backup(paths: [dir + "/src"])
        XCTAssertFalse(SnapshotFacts.hasFullPaths(old.snapshot.extra))
        XCTAssertEqual(old.snapshot.paths, [dir + "/src"])
        let oldRecord = try t.repo.resolveSnapshot(old.snapshotID)
        _ = try await Restorer(repo: t.repo, snapshot: oldRecord).restore(to: dir + "/out-old")
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/out-old/src/a"), Data(a))
        _ = try await Restorer(repo: t.repo, snapshot: oldRecord).restore(to: dir + "/out-old-sub", include: ["src/sub"])
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/out-old-sub/src/sub/b"), Data(b))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/out-old-sub/src/a"))

        // The next backup (full paths by default) reuses the old snapshot's unchanged files.
        let new = try await Archiver(repo: t.repo, options: BackupOptions(name: "node")).backup(paths: [dir + "/src"])
        XCTAssertTrue(SnapshotFacts.hasFullPaths(new.snapshot.extra))
        XCTAssertEqual(new.unchangedFiles, 2)
        XCTAssertEqual(new.newBytes, 0)
        _ = try await Restorer(repo: t.repo, snapshot: try t.repo.resolveSnapshot(new.snapshotID)).restore(to: dir + "/out-new")
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/out-new" + dir + "/src/a"), Data(a))
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/out-new" + dir + "/src/sub/b"), Data(b))
        // And the one after that finds them at their full paths.
        let third = try await Archiver(repo: t.repo, options: BackupOptions(name: "node")).backup(paths: [dir + "/src"])
        XCTAssertEqual(third.unchangedFiles, 2)
    }

    func testArgumentsAreMadeAbsoluteCleanAndDeduplicated() throws {
        XCTAssertEqual(try Archiver.absolutePaths(["/a/b/", "/a//b/./c/..", "/a/b/c", "/x/../y", "/a/bb"]), ["/a/b", "/y", "/a/bb"])
        XCTAssertEqual(try Archiver.absolutePaths(["/"]), ["/"])
        XCTAssertEqual(try Archiver.absolutePaths(["/etc", "/"]), ["/"])
        let cwd = FileManager.default.currentDirectoryPath
        XCTAssertEqual(try Archiver.absolutePaths(["rel/x"]), [cwd + "/rel/x"])
        XCTAssertThrowsError(try Archiver.absolutePaths([""]))
    }
}

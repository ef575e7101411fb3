import Foundation
import XCTest

/// A tree restore killed part-way leaves `.cairn-restore-incomplete` in its
/// target (files are synced once at the end, not one by one, so the marker is
/// what tells a partial tree from a complete one); the next restore into the
/// same target completes, says what it found, and removes it.
final class RestoreMarkerCLITests: CLITestCase {
    func testKilledRestoreLeavesTheMarkerAndTheNextOneCompletes() throws {
        try initRepo()
        let src = tmp.appendingPathComponent("src")
        for d in 0..<4 {
            for f in 0..<100 {
                try write(Data((0..<(1500 + f * 37)).map { UInt8(truncatingIfNeeded: $0 &* (d + 3) &+ f) }), to: src.appendingPathComponent("d\(d)/f\(f)"))
            }
        }
        try ok(["backup", src.path, "--name", "tree"])
        let target = tmp.appendingPathComponent("target")
        let marker = target.appendingPathComponent(".cairn-restore-incomplete")
        // Slowed down (256 KiB/s) so that it is still running when the first files are in place.
        let running = try cli.start(["restore", "latest", "--name", "tree", "--target", target.path, "--limit-download", "256"])
        let deadline = Date().addingTimeInterval(60)
        var seen = false
        while Date() < deadline {
            let restored = (FileManager.default.enumerator(atPath: target.path)?.allObjects as? [String] ?? []).filter { $0.hasSuffix("src/d0") || $0.contains("src/d0/") }
            if !restored.isEmpty {
                // Whenever an entry exists, the marker already does.
                XCTAssertTrue(FileManager.default.fileExists(atPath: marker.path), "an entry exists without the marker")
                seen = true
                break
            }
            usleep(20_000)
        }
        running.kill(SIGKILL)
        let killed = running.wait(timeout: 30)
        XCTAssertTrue(seen, "the restore wrote nothing within a minute: \(killed.summary)")
        XCTAssertTrue(killed.signaled, "the restore finished before it was killed (too fast for this test): \(killed.summary)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: marker.path), "a killed restore must leave the marker")
        XCTAssertTrue(try String(contentsOf: marker, encoding: .utf8).contains("has not finished"))

        let again = try ok(["restore", "latest", "--name", "tree", "--target", target.path])
        XCTAssertTrue(again.err.contains("did not finish"), again.summary)
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker.path), "a completed restore removes the marker")
        // Under the target at the path the snapshot records for it (its name, or its full path).
        let restored = (FileManager.default.enumerator(atPath: target.path)?.allObjects as? [String] ?? []).filter { $0 == "src" || $0.hasSuffix("/src") }.min { $0.count < $1.count }
        let diff = try Self.shell("diff -r \(Self.quote(src.path)) \(Self.quote(target.appendingPathComponent(restored ?? "src").path))")
        XCTAssertEqual(diff.status, 0, diff.out + diff.err)
    }
}

import Foundation
import XCTest

/// scripts/run.sh (issue 17, defect 2): relative paths from the caller's
/// directory; a failed backup stops the run with cairn's exit code, nothing
/// "verified" after it.
final class RunScriptTests: CLITestCase {
    private var script: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/run.sh")
    }

    private func run(_ args: [String], from dir: URL) throws -> ShellResult {
        try Self.shell("cd \(Self.quote(dir.path)) && CAIRN_BIN=\(Self.quote(cli.binary.path)) CAIRN_REPO=\(Self.quote(repo.path)) "
                       + "CAIRN_CACHE_DIR=\(Self.quote(cache.path)) CAIRN_PASSWORD=\(Self.quote(password)) "
                       + "\(Self.quote(script.path)) \(args.map(Self.quote).joined(separator: " "))")
    }

    func testRelativePathsFromTheCallerAndAFailedBackupStopsTheRun() throws {
        let caller = try makeDir("caller")
        try write(TestData.random(50_000, seed: 81), to: caller.appendingPathComponent("data/a.bin"))
        let good = try run(["data"], from: caller)
        XCTAssertEqual(good.status, 0, good.err)
        XCTAssertTrue(good.out.contains("verified: \(caller.path)/data restored byte for byte"), good.out)
        XCTAssertEqual(try snapshots().first?["paths"] as? [String], [caller.path + "/data"])

        // A path that does not exist: cairn backup's own exit code, and the previous snapshot is not "verified".
        let direct = try cli.run(["backup", "/nonexistent-\(UUID().uuidString)", "--name", "demo"])
        XCTAssertNotEqual(direct.status, 0)
        let bad = try run(["/nonexistent-\(UUID().uuidString)"], from: caller)
        XCTAssertEqual(bad.status, direct.status, "run.sh exits with cairn's code: \(bad.out)\n\(bad.err)")
        XCTAssertFalse(bad.out.contains("verified"), bad.out)
        XCTAssertTrue(bad.err.contains("the backup failed"), bad.err)
        XCTAssertEqual(try snapshots().count, 1)
    }
}

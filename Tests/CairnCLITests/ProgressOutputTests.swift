import Foundation
import XCTest

/// Issue 17 (restic conventions): the backup's progress line counts files and
/// bytes against the total from a quick scan, in one unit system, and with
/// `--progress` to a file it writes plain lines, never terminal control codes.
final class ProgressOutputTests: CLITestCase {
    func testBackupProgressToAFileIsPlainLinesAgainstTheScannedTotal() throws {
        try initRepo()
        let src = try makeDir("src")
        try write(Data(repeating: 7, count: 100_000), to: src.appendingPathComponent("a.bin"))
        try write(Data(repeating: 8, count: 200_000), to: src.appendingPathComponent("sub/b.bin"))
        try write(Data(), to: src.appendingPathComponent("sub/empty"))
        // Left out by the selection: the scan must not count it either.
        try write(Data(repeating: 9, count: 500_000), to: src.appendingPathComponent("big.skip"))
        try FileManager.default.createSymbolicLink(atPath: src.appendingPathComponent("link").path, withDestinationPath: "a.bin")

        let r = try ok(["backup", src.path, "--progress", "--exclude", "*.skip"])
        XCTAssertFalse(r.err.contains("\u{1B}"), "no terminal control codes in a file: \(r.err.debugDescription)")
        XCTAssertFalse(r.err.contains("\r"), "no carriage returns in a file: \(r.err.debugDescription)")
        let lines = r.errLines.filter { $0.hasPrefix("backing up ") }
        let last = try XCTUnwrap(lines.last, "a last progress line: \(r.err)")
        // 300,000 bytes = 292.97 KiB in 3 regular files (the symlink and the excluded file are not counted).
        XCTAssertTrue(last.hasPrefix("backing up 3 of 3 files, 292.97 KiB of 292.97 KiB (100%), "), last)
        XCTAssertTrue(last.hasSuffix("/s"), "a rate: \(last)")
        XCTAssertTrue(last.contains("iB/s") || last.contains(" B/s"), "the rate in binary units like the sizes: \(last)")
        XCTAssertFalse(last.contains("MB") || last.contains("kB"), "one unit system: \(last)")

        // Without --progress and not on a terminal: no progress at all; with --json neither.
        let quiet = try ok(["backup", src.path])
        XCTAssertFalse(quiet.err.contains("backing up"), quiet.err)
        let json = try ok(["backup", src.path, "--progress", "--json"])
        XCTAssertFalse(json.err.contains("backing up"), json.err)
    }

    /// restore and dump start and stop their line through the one helper (ProgressLine.showing):
    /// plain lines ending with a last one, and a restore that fails still ends its line and then
    /// says why in exactly one error line, exit 1.
    func testRestoreAndDumpProgressEndsItsLineHoweverTheWorkEnds() throws {
        try initRepo()
        let src = try makeDir("src")
        let big = TestData.random(3 << 20, seed: 5)
        try write(big, to: src.appendingPathComponent("big.bin"))
        let id = try backup([src.path]).string("snapshot_id")

        let restored = try ok(["restore", id, "--target", tmp.appendingPathComponent("out").path, "--progress"])
        XCTAssertFalse(restored.err.contains("\u{1B}") || restored.err.contains("\r"), restored.err.debugDescription)
        XCTAssertTrue(restored.errLines.last?.hasPrefix("restoring ") == true, "the last line is the final progress line: \(restored.summary)")
        let dumped = try ok(["dump", id, src.appendingPathComponent("big.bin").path, "--progress"])
        XCTAssertTrue(dumped.errLines.last?.hasPrefix("dumping ") == true, dumped.summary)
        XCTAssertEqual(dumped.stdout, big)

        // The data pack damaged: the restore fails; its progress line still ends (a last plain
        // line) before the one error line.
        try Posix.flipByte(try packFiles()[0], at: 100)
        let failed = try cli.run(["restore", id, "--target", tmp.appendingPathComponent("out2").path, "--progress"])
        XCTAssertEqual(failed.status, 1, failed.summary)
        XCTAssertFalse(failed.signaled, failed.summary)
        XCTAssertEqual(failed.errLines.filter { $0.hasPrefix("cairn: error: ") }.count, 1, failed.summary)
        XCTAssertTrue(failed.errLines.last?.hasPrefix("cairn: error: ") == true, failed.summary)
        XCTAssertTrue(failed.errLines.dropLast().last?.hasPrefix("restoring ") == true, "the progress line ended first: \(failed.summary)")
        XCTAssertTrue(failed.errLines.dropLast().allSatisfy { $0.hasPrefix("restoring ") || $0.hasPrefix("cairn: warning: ") }, failed.summary)
    }
}

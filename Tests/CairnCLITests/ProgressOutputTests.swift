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
}

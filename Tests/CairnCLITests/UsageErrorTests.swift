import Foundation
import XCTest

/// Usage errors exit 2 with a short message and a pointer to --help.
final class UsageErrorTests: CLITestCase {
    func assertUsage(_ args: [String], mentions: String? = nil, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try cli.run(args)
        XCTAssertFalse(r.signaled, r.summary, file: file, line: line)
        XCTAssertEqual(r.status, 2, r.summary, file: file, line: line)
        XCTAssertTrue(r.stdout.isEmpty, "usage errors print nothing on stdout: \(r.summary)", file: file, line: line)
        XCTAssertTrue(r.errLines.count >= 1 && r.errLines.count <= 3, "short message: \(r.summary)", file: file, line: line)
        XCTAssertTrue(r.err.contains("--help"), "points to --help: \(r.summary)", file: file, line: line)
        if let mentions { XCTAssertTrue(r.err.contains(mentions), "mentions \(mentions): \(r.summary)", file: file, line: line) }
    }

    func testUsageErrorsExit2() throws {
        try initRepo()
        let before = directoryListing(repo)
        try assertUsage(["backup", "--no-such-flag", tmp.path], mentions: "--no-such-flag")
        try assertUsage(["frobnicate"])
        try assertUsage(["snapshots", "--bogus"])
        try assertUsage(["restore"])                                   // missing SNAPSHOT
        try assertUsage(["restore", "latest", "--target"])             // option without its value
        try assertUsage(["backup"], mentions: "nothing to back up")    // nothing to back up
        try assertUsage(["backup", "--stdin"], mentions: "--name")     // a stream needs a name
        try assertUsage(["backup", "--stdin", "--name", "x", tmp.path])  // both
        try assertUsage(["backup", tmp.path, "--time", "yesterday"], mentions: "RFC 3339")
        try assertUsage(["backup", "--stdin", "--name", "a/b"])
        try assertUsage(["restore", "latest"], mentions: "--target")   // neither --target nor --stdout
        try assertUsage(["restore", "latest", "--stdout", "--target", tmp.path])
        try assertUsage(["restore", "latest", "--stdout", "--include", "x"])
        try assertUsage(["key", "remove"])
        try assertUsage(["chunk"])
        try assertUsage(["chunk", "/etc/hostname", "--avg", "banana"])
        try assertUsage(["init", "--pack-size-mib", "0", "--repo", tmp.appendingPathComponent("r2").path])
        try assertUsage(["init", "--compression", "extreme", "--repo", tmp.appendingPathComponent("r3").path])
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp.appendingPathComponent("r2/config").path))
        XCTAssertEqual(directoryListing(repo), before)
    }

    func testHelpAndVersionExit0() throws {
        let help = try ok(["--help"])
        for c in ["init", "backup", "snapshots", "ls", "stats", "restore", "key", "chunk", "index"] {
            XCTAssertTrue(help.out.contains(c), "help lists \(c): \(help.summary)")
        }
        try ok(["backup", "--help"])
        let v = try ok(["--version"])
        XCTAssertFalse(v.out.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
    }
}

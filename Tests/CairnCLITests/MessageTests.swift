import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Messages and exit codes of the bad-input suite's leftovers: --stdin on a
/// terminal, a damaged config, empty paths, bad option values.
final class MessageTests: CLITestCase {
    /// A pseudo-terminal; returns the primary's descriptor (keep it open) and the replica's path.
    private func openTerminal() throws -> (Int32, String) {
        let primary = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        guard primary >= 0 else { throw XCTSkip("no pseudo-terminal available: \(String(cString: strerror(errno)))") }
        var unlock: Int32 = 0, number: UInt32 = 0
        // TIOCSPTLCK (unlock the replica) and TIOCGPTN (its number): what unlockpt and ptsname do.
        guard ioctl(primary, 0x4004_5431, &unlock) == 0, ioctl(primary, 0x8004_5430, &number) == 0 else {
            close(primary)
            throw XCTSkip("cannot set up a pseudo-terminal: \(String(cString: strerror(errno)))")
        }
        return (primary, "/dev/pts/\(number)")
    }

    func testStdinOnATerminalIsRefusedWithAHint() throws {
        try initRepo()
        let (primary, replica) = try openTerminal()
        defer { close(primary) }
        let started = Date()
        let r = try cli.run(["backup", "--stdin", "--name", "db"], stdin: .file(URL(fileURLWithPath: replica)), timeout: 30)
        XCTAssertFalse(r.timedOut, "waited for the terminal: \(r.summary)")
        XCTAssertLessThan(Date().timeIntervalSince(started), 20)
        XCTAssertEqual(r.status, 2, r.summary)
        XCTAssertTrue(r.err.contains("terminal"), r.summary)
        XCTAssertTrue(r.err.contains("| cairn backup --stdin"), r.summary)
        XCTAssertTrue(r.stdout.isEmpty, r.summary)
        XCTAssertEqual(try snapshots().count, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: repo.appendingPathComponent("locks").path), [], "no lock left")
        // From a pipe or a file it works as before.
        _ = try backup(["--stdin", "--name", "db"], stdin: .data(Data("dump".utf8)))
    }

    /// A truncated or damaged config names the object and says what to do, whatever the cut.
    func testDamagedConfigNamesTheObjectAndTheRemedy() throws {
        try initRepo()
        _ = try backup(["--stdin", "--name", "x"], stdin: .data(Data("x".utf8)))
        let config = repo.appendingPathComponent("config")
        let original = try Data(contentsOf: config)
        var flipped = original
        flipped[flipped.count - 5] ^= 0x01
        for (label, bytes) in [("4 bytes", original.prefix(4)), ("header and 4 bytes", original.prefix(10)),
                               ("one byte short", original.dropLast()), ("a flipped byte", flipped)] {
            try Data(bytes).write(to: config)
            for args in [["snapshots"], ["backup", "--stdin", "--name", "x"]] {
                let r = try failsOneLine(args, stdin: .data(Data("x".utf8)))
                XCTAssertTrue(r.err.contains("config object (\(repo.path)/config) is damaged"), "\(label): \(r.summary)")
                XCTAssertTrue(r.err.contains("put that one object back"), "\(label): \(r.summary)")
                XCTAssertFalse(r.err.contains("wrong passphrase"), "\(label): \(r.summary)")
            }
        }
        try original.write(to: config)
        XCTAssertEqual(try snapshots().count, 1)
    }

    /// Usage errors, all exit 2 with a pointer to --help and nothing on standard output.
    func testEmptyPathsAndBadOptionValuesExit2() throws {
        try initRepo()
        let f = tmp.appendingPathComponent("f")
        try write(Data("x".utf8), to: f)
        let cases: [([String], String)] = [
            (["backup", ""], "path is empty"),
            (["backup", f.path, ""], "path is empty"),
            (["backup", f.path, "--chunk-profile", "nonsense"], "unknown chunker profile"),
            (["backup", f.path, "--exclude", ""], "empty --exclude pattern"),
            (["backup", f.path, "--exclude-file", ""], "--exclude-file is empty"),
            (["backup", f.path, "--tag", ""], "--tag is empty"),
            (["backup", f.path, "--host", ""], "--host is empty"),
            (["backup", f.path, "--delta", "sometimes"], "--delta"),
            (["restore", "latest", "--target", ""], "--target is empty"),
            (["chunk", ""], "empty"),
            (["snapshots", "--repo", "ftp://example.com/x"], "unknown repository scheme"),
            (["snapshots", "--repo", "s3:not-a-url"], "bad S3 repository URL"),
            (["copy", "--to", ""], "empty repository location"),
            (["redis", "backup", "--name", "r", "--url", "http://127.0.0.1:1"], "redis://"),
        ]
        // (An unknown profile is found once the repository is open, under a lock that is then
        // released: directories' mtimes may move, no file may.)
        let files = { directoryListing(self.repo).filter { $0.value.hasPrefix("mode 100") } }
        let before = files()
        for (args, mention) in cases {
            let r = try cli.run(args)
            XCTAssertEqual(r.status, 2, r.summary)
            XCTAssertTrue(r.stdout.isEmpty, r.summary)
            XCTAssertTrue(r.err.hasPrefix("cairn: error: "), r.summary)
            XCTAssertTrue(r.err.contains(mention), "mentions \(mention): \(r.summary)")
            XCTAssertTrue(r.err.contains("--help"), r.summary)
        }
        XCTAssertEqual(files(), before, "a usage error changed the repository")
    }
}

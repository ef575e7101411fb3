import Foundation
import XCTest

/// The one mapping from how a command ends to what it prints and the code it exits with
/// (the CLI's ExitMapping; codes in CairnOps.ExitStatus, README.md): each failing command
/// prints exactly one `cairn: error:` line (a usage error adds only the pointer to --help)
/// and exits with its documented code.
final class ExitStatusTests: CLITestCase {
    static let usageHint = "Run 'cairn --help' (or 'cairn COMMAND --help') for usage."

    /// Runs `args`, asserts exit `code` and exactly one error line; any other line is a warning
    /// or, for a usage error, the pointer to --help.
    @discardableResult
    func assertExit(_ args: [String], code: Int32, stdin: Stdin = .none, mentions: String? = nil,
                    file: StaticString = #filePath, line: UInt = #line) throws -> CLIResult {
        let r = try fails(args, code: code, stdin: stdin, file: file, line: line)
        let errors = r.errLines.filter { $0.hasPrefix("cairn: error: ") }
        XCTAssertEqual(errors.count, 1, "one error line: \(r.summary)", file: file, line: line)
        let others = r.errLines.filter { !$0.hasPrefix("cairn: error: ") && !$0.hasPrefix("cairn: warning: ") }
        XCTAssertEqual(others, code == 2 ? [Self.usageHint] : [], r.summary, file: file, line: line)
        if let mentions { XCTAssertTrue(errors.first?.contains(mentions) == true, "mentions \(mentions): \(r.summary)", file: file, line: line) }
        return r
    }

    func testEveryFailureExitsWithItsDocumentedCodeAndOneErrorLine() throws {
        try initRepo()
        let src = try makeDir("src")
        try write(Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }), to: src.appendingPathComponent("a.bin"))
        _ = try backup([src.path])

        // 2: a bad option while parsing, and a bad value found only once the repository is open.
        try assertExit(["snapshots", "--bogus"], code: 2, mentions: "--bogus")
        try assertExit(["backup", "--stdin", "--name", "s", "--chunk-profile", "no-such-profile"], code: 2, stdin: .data(Data("x".utf8)),
                       mentions: "no-such-profile")
        // 1: a runtime failure.
        try assertExit(["restore", "0123abcd", "--target", tmp.appendingPathComponent("out").path], code: 1, mentions: "0123abcd")

        // A pack cut in half: index rebuild --read-packs names it (a warning) and fails with one error line;
        // scrub finds the damage: exit 4 with one error line (its report is on standard output).
        let pack = try packFiles()[0]
        try Posix.truncate(pack, to: Posix.fileSize(pack) / 2)
        let rebuilt = try assertExit(["index", "rebuild", "--read-packs"], code: 1, mentions: "could not be read")
        XCTAssertTrue(rebuilt.err.contains(pack.lastPathComponent), rebuilt.summary)
        try assertExit(["scrub"], code: 4, mentions: "damage")
    }
}

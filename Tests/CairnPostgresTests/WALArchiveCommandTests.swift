import CairnPostgres
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The archive_command / restore_command contract of `cairn wal-push` and
/// `cairn wal-fetch`, run as the real binary under the PostgreSQL account.
final class WALArchiveCommandTests: XCTestCase {
    private func segment(_ sandbox: Sandbox, _ name: String, seed: UInt8, size: Int = 16 << 20) throws -> String {
        var bytes = [UInt8](repeating: 0, count: size)
        var x = UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 | 1
        for i in stride(from: 0, to: size, by: 8) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17
            withUnsafeBytes(of: x) { for j in 0..<8 where i + j < size { bytes[i + j] = $0[j] } }
        }
        let path = sandbox.dir + "/" + name
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        chown(path, sandbox.uid, sandbox.gid)
        return path
    }

    func testPushingTheSameFileTwiceIsIdempotentAndDifferentContentIsRefused() throws {
        _ = try PostgresCluster.binaries()
        let sandbox = try Sandbox()
        let name = "00000001000000000000002A"
        let path = try segment(sandbox, name, seed: 1)
        let first = try sandbox.cairnRun(["wal-push", path, "--json"])
        XCTAssertEqual(first.status, 0, first.summary)
        let second = try sandbox.cairnRun(["wal-push", path])
        XCTAssertEqual(second.status, 0, second.summary)
        XCTAssertTrue(second.err.contains("already archived with identical content"), second.summary)

        _ = try segment(sandbox, name, seed: 2)
        let different = try sandbox.cairnRun(["wal-push", path])
        XCTAssertNotEqual(different.status, 0, different.summary)
        XCTAssertTrue(different.err.contains("different content"), different.summary)
        XCTAssertEqual(different.err.split(separator: "\n").count, 1, "one line: \(different.err)")

        // History files are never overwritten; .partial and .backup files are archived like the rest.
        try sandbox.write(sandbox.dir + "/00000002.history", "1\t0/2A000000\tno recovery target specified\n")
        XCTAssertEqual(try sandbox.cairnRun(["wal-push", sandbox.dir + "/00000002.history"]).status, 0)
        try sandbox.write(sandbox.dir + "/00000002.history", "1\t0/2B000000\tno recovery target specified\n")
        XCTAssertNotEqual(try sandbox.cairnRun(["wal-push", sandbox.dir + "/00000002.history"]).status, 0)
        let partial = try segment(sandbox, "00000001000000000000002B.partial", seed: 3, size: 1 << 20)
        XCTAssertEqual(try sandbox.cairnRun(["wal-push", partial]).status, 0)
        try sandbox.write(sandbox.dir + "/00000001000000000000002A.00000028.backup", "START WAL LOCATION: 0/2A000028\n")
        XCTAssertEqual(try sandbox.cairnRun(["wal-push", sandbox.dir + "/00000001000000000000002A.00000028.backup"]).status, 0)

        // The first content is what comes back.
        let out = sandbox.dir + "/fetched"
        XCTAssertEqual(try sandbox.cairnRun(["wal-fetch", name, out]).status, 0)
        _ = try segment(sandbox, "expected", seed: 1)
        XCTAssertEqual(FileManager.default.contents(atPath: out), FileManager.default.contents(atPath: sandbox.dir + "/expected"))
        XCTAssertEqual(try sandbox.cairnRun(["wal-fetch", "00000002.history", out]).status, 0)
        XCTAssertEqual(try String(contentsOfFile: out, encoding: .utf8), "1\t0/2A000000\tno recovery target specified\n")

        // Bad input: one line, non-zero, no crash.
        try sandbox.write(sandbox.dir + "/notawal", "x")
        let bad = try sandbox.cairnRun(["wal-push", sandbox.dir + "/notawal"])
        XCTAssertNotEqual(bad.status, 0); XCTAssertTrue(bad.err.contains("not a WAL file name"), bad.summary)
        let missing = try sandbox.cairnRun(["wal-push", sandbox.dir + "/00000001000000000000002F"])
        XCTAssertEqual(missing.status, 1, missing.summary)
        XCTAssertEqual(missing.err.split(separator: "\n").count, 1, missing.summary)
    }

    func testFetchExitsOneWhenAbsentAndAbove125WhenTheStoreCannotBeRead() throws {
        _ = try PostgresCluster.binaries()
        let sandbox = try Sandbox()
        let name = "000000010000000000000010"
        XCTAssertEqual(try sandbox.cairnRun(["wal-push", try segment(sandbox, name, seed: 7, size: 1 << 20)]).status, 0)
        let dest = sandbox.dir + "/RECOVERYXLOG"

        let absent = try sandbox.cairnRun(["wal-fetch", "000000010000000000000011", dest])
        XCTAssertEqual(absent.status, 1, absent.summary)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dest))
        XCTAssertEqual(try sandbox.cairnRun(["wal-fetch", "00000005.history", dest]).status, 1)

        // No repository at all (a wrong path, an unmounted disk): not "absent".
        let gone = try sandbox.cairnRun(["wal-fetch", "--attempts", "2", name, dest], env: ["CAIRN_ENV_FILE": try sandbox.brokenEnvFile()])
        XCTAssertGreaterThanOrEqual(gone.status, 126, gone.summary)
        XCTAssertTrue(gone.err.contains("attempt 1 of 2"), gone.summary)

        // The packs become unreadable (permissions): the fetch cannot prove anything and must not say "absent".
        let data = sandbox.repo + "/data"
        chmod(data, 0o000)
        defer { chmod(data, 0o700) }
        let unreadable = try sandbox.cairnRun(["wal-fetch", "--attempts", "2", name, dest])
        XCTAssertGreaterThanOrEqual(unreadable.status, 126, unreadable.summary)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dest))
        chmod(data, 0o700)
        let ok = try sandbox.cairnRun(["wal-fetch", name, dest])
        XCTAssertEqual(ok.status, 0, ok.summary)
    }
}

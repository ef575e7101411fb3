import Foundation
import XCTest

/// Bad input to the PostgreSQL commands: one line on standard error, a non-zero exit, never a crash.
final class PgUsageTests: XCTestCase {
    func testBadInputGetsOneLineAndNonZeroExit() throws {
        _ = try PostgresCluster.binaries()
        let sandbox = try Sandbox()
        let cases: [([String], Int32, String)] = [
            (["pg", "restore", "--pgdata", sandbox.dir + "/x"], 2, "exactly one of"),
            (["pg", "restore", "--pgdata", sandbox.dir + "/x", "--target-time", "yesterday"], 2, "is not a time"),
            (["pg", "restore", "--pgdata", sandbox.dir + "/x", "--target-lsn", "0/ZZ"], 2, "is not a WAL position"),
            (["pg", "restore", "--pgdata", sandbox.dir + "/x", "--latest", "--target-action", "explode"], 2, "promote, pause or shutdown"),
            (["pg", "restore", "--pgdata", sandbox.dir + "/x", "--latest"], 1, "no base backup"),
            (["wal-fetch", "../../etc/passwd", sandbox.dir + "/out"], 2, "not a WAL file name"),
            (["pg", "basebackup", "--dbname", "host=\(sandbox.dir) port=1 dbname=postgres"], 1, "cannot connect to PostgreSQL"),
            (["pg", "dump", "--name", "d", "--dbname", "host=\(sandbox.dir) port=1 dbname=postgres"], 1, "cannot connect to PostgreSQL"),
            (["pg", "dump", "--name", "d", "--dbname", "not a = valid 'connection"], 1, "bad connection string"),
            (["pg", "wal-check", "--env-file", sandbox.dir + "/missing.env"], 1, "cannot read the env file"),
            // wal-fetch tries its quick path first: the env file it could not read is still the error.
            (["wal-fetch", "--env-file", sandbox.dir + "/missing.env", "000000010000000000000001", sandbox.dir + "/out"], 128, "cannot read the env file"),
        ]
        for (args, status, message) in cases {
            let r = try sandbox.cairnRun(args)
            XCTAssertEqual(r.status, status, r.summary)
            XCTAssertTrue(r.err.contains(message), "expected \(message.debugDescription): \(r.summary)")
            XCTAssertTrue(r.err.hasPrefix("cairn: error: "), r.summary)
            XCTAssertLessThanOrEqual(r.err.split(separator: "\n").count, 2, r.summary)  // the message, and for usage errors a pointer to --help
        }
        // An empty archive is not an error for wal-check and status.
        XCTAssertEqual(try sandbox.cairnRun(["pg", "wal-check"]).status, 0)
        XCTAssertTrue(try sandbox.cairnRun(["pg", "status"]).out.contains("no segment archived yet"))
    }
}

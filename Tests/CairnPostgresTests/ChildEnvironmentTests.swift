import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// #15.17: pg_dump and pg_basebackup, run by Cairn against a real server, get
/// their PG* settings and PGPASSWORD but never Cairn's passphrase or the
/// store's credentials. Wrappers first in CAIRN_PG_BIN write each child's
/// environment out and then run the real program.
final class PostgresChildEnvironmentTests: XCTestCase {
    func testPostgresToolsGetNoCairnSecret() throws {
        let sandbox = try Sandbox()
        let cluster = try PostgresCluster(sandbox: sandbox, archiveCommand: "/bin/true")
        defer { cluster.stop() }
        let real = try PostgresCluster.binaries()
        let bin = sandbox.dir + "/wrapped-bin"
        XCTAssertEqual(mkdir(bin, 0o755), 0)
        chown(bin, sandbox.uid, sandbox.gid)
        for tool in ["pg_dump", "pg_basebackup"] {
            let script = "#!/bin/sh\n/usr/bin/env > \(sandbox.dir)/\(tool).env\nexec \(real)/\(tool) \"$@\"\n"
            try sandbox.write(bin + "/" + tool, script, mode: 0o755)
        }
        let env = ["CAIRN_PG_BIN": bin,
                   "CAIRN_PASSWORD": "correct horse battery staple",
                   "AWS_SECRET_ACCESS_KEY": "secret-access-key-value",
                   "AWS_SESSION_TOKEN": "session-token-value",
                   "PGPASSWORD": "pg-password-value",
                   "CAIRN_TEST_MARKER": "harmless-marker"]
        try sandbox.cairnRun(["pg", "dump", "--name", "d", "--dbname", "host=\(cluster.dir) port=\(cluster.port) dbname=postgres user=postgres"], env: env).check("pg dump")
        try sandbox.cairnRun(["pg", "basebackup", "--stream", "--name", "b", "--dbname", cluster.conninfo], env: env).check("pg basebackup --stream")
        for tool in ["pg_dump", "pg_basebackup"] {
            let seen = try String(contentsOfFile: sandbox.dir + "/\(tool).env", encoding: .utf8)
            XCTAssertTrue(seen.contains("CAIRN_TEST_MARKER=harmless-marker"), "\(tool): \(seen)")
            for secret in ["correct horse battery staple", "secret-access-key-value", "session-token-value", "CAIRN_PASSWORD_FILE=", "CAIRN_PASSWORD="] {
                XCTAssertFalse(seen.contains(secret), "\(tool) saw \(secret)")
            }
            // Its own service's password and settings it keeps.
            XCTAssertTrue(seen.contains("PGPASSWORD=pg-password-value"), "\(tool): \(seen)")
            XCTAssertTrue(seen.contains("PGHOST=") || seen.contains("PGPORT="), "\(tool) gets its connection in PG* variables: \(seen)")
        }
    }
}

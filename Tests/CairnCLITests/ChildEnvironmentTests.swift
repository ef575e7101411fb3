import Foundation
import XCTest

/// #15.17: Cairn's passphrase and the store's credentials never reach a child
/// (`--stdin-from-command`, the `--decompress` tool): each child here writes
/// its whole environment out, and the test reads it.
final class ChildEnvironmentTests: CLITestCase {
    let passphraseValue = "correct horse battery staple"
    var secrets: [String: String?] {
        ["CAIRN_PASSWORD": passphraseValue,
         "CAIRN_NEW_PASSWORD": "new-passphrase-value",
         "CAIRN_TO_PASSWORD": "to-passphrase-value",
         "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEEXAMPLE",
         "AWS_SECRET_ACCESS_KEY": "secret-access-key-value",
         "AWS_SESSION_TOKEN": "session-token-value",
         "PGPASSWORD": "pg-password-value",
         "REDISCLI_AUTH": "redis-password-value",
         "CAIRN_TEST_MARKER": "harmless-marker"]
    }

    func assertNoCairnSecret(_ env: String, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(env.contains("CAIRN_TEST_MARKER=harmless-marker"), "\(what): the child's environment was not captured: \(env)", file: file, line: line)
        for value in [passphraseValue, "new-passphrase-value", "to-passphrase-value", "AKIAEXAMPLEEXAMPLE", "secret-access-key-value", "session-token-value"] {
            XCTAssertFalse(env.contains(value), "\(what) saw \(value)", file: file, line: line)
        }
        for name in ["CAIRN_PASSWORD=", "CAIRN_PASSWORD_FILE=", "AWS_SECRET_ACCESS_KEY=", "AWS_SESSION_TOKEN="] {
            XCTAssertFalse(env.contains(name), "\(what) saw \(name)", file: file, line: line)
        }
    }

    func testStdinFromCommandSeesNoCairnSecret() throws {
        try initRepo()
        // Opened through the passphrase file: its path is withheld too.
        let pw = tmp.appendingPathComponent("pw")
        try write(Data((passphraseValue + "\n").utf8), to: pw)
        var env = secrets
        env["CAIRN_PASSWORD_FILE"] = pw.path
        try ok(["backup", "--name", "env", "--stdin-from-command", "--", "/usr/bin/env"], env: env)
        let dumped = try ok(["restore", "latest", "--stdout"]).out
        assertNoCairnSecret(dumped, "--stdin-from-command")
        // The operator's own command keeps the service passwords it may need (a pg_dump, a redis-cli).
        XCTAssertTrue(dumped.contains("PGPASSWORD=pg-password-value"), dumped)
        XCTAssertTrue(dumped.contains("REDISCLI_AUTH=redis-password-value"), dumped)
    }

    func testDecompressToolSeesNoSecretAtAll() throws {
        try initRepo()
        // A gzip first on PATH that writes its environment, then decompresses with the real one.
        let bin = try makeDir("bin")
        let dumpFile = tmp.appendingPathComponent("gzip.env")
        guard let realGzip = ["/usr/bin/gzip", "/bin/gzip"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("no gzip")
        }
        let script = "#!/bin/sh\n/usr/bin/env > \(Self.quote(dumpFile.path))\nexec \(realGzip) \"$@\"\n"
        try write(Data(script.utf8), to: bin.appendingPathComponent("gzip"))
        chmod(bin.appendingPathComponent("gzip").path, 0o755)
        let plain = TestData.text(50_000, seed: 4)
        let src = tmp.appendingPathComponent("plain")
        try write(plain, to: src)
        try Self.shell("\(realGzip) -c \(Self.quote(src.path)) > \(Self.quote(src.path)).gz")
        var env = secrets
        env["PATH"] = bin.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        try ok(["backup", "--stdin", "--decompress", "--name", "gz"], stdin: .file(URL(fileURLWithPath: src.path + ".gz")), env: env)
        XCTAssertEqual(try ok(["restore", "latest", "--stdout"]).stdout, plain)
        let dumped = try String(contentsOf: dumpFile, encoding: .utf8)
        assertNoCairnSecret(dumped, "the --decompress tool")
        XCTAssertFalse(dumped.contains("pg-password-value") || dumped.contains("redis-password-value"), "a decompressor needs no password: \(dumped)")
    }
}

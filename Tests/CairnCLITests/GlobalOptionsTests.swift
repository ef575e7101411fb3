import Foundation
import XCTest

/// restic's conventions: global options before or after the command, `-r`,
/// and $CAIRN_ENV_FILE read by every command.
final class GlobalOptionsTests: CLITestCase {
    func testGlobalOptionsBeforeAndAfterTheCommand() throws {
        let r = repo.path
        // No $CAIRN_REPO: the repository comes only from the options.
        let noRepo: [String: String?] = ["CAIRN_REPO": nil]
        let src = try makeDir("src")
        try write(TestData.text(5_000, seed: 1), to: src.appendingPathComponent("a.txt"))
        let i = try cli.run(["-r", r, "init"], env: noRepo)
        XCTAssertEqual(i.status, 0, i.summary)
        XCTAssertTrue(FileManager.default.fileExists(atPath: repo.appendingPathComponent("config").path), i.summary)
        let b = try cli.run(["--repo", r, "--json", "backup", src.path, "--name", "src"], env: noRepo)
        XCTAssertEqual(b.status, 0, b.summary)
        let id = try b.jsonObject().string("snapshot_id")
        for args in [["-r", r, "snapshots", "--json"], ["--repo", r, "--json", "snapshots"], ["snapshots", "-r", r, "--json"],
                     ["--repo=\(r)", "snapshots", "--json"], ["snapshots", "--json", "--repo", r]] {
            let s = try cli.run(args, env: noRepo)
            XCTAssertEqual(s.status, 0, s.summary)
            XCTAssertEqual(try s.jsonArray().map { try $0.string("id") }, [id], s.summary)
        }
        // Nested commands: the options land after the whole command path.
        let k = try cli.run(["-r", r, "--json", "key", "list"], env: noRepo)
        XCTAssertEqual(k.status, 0, k.summary)
        XCTAssertEqual(try k.jsonArray().count, 1, k.summary)
        // Arguments of the command still follow it.
        let ls = try cli.run(["-r", r, "--json", "ls", "latest", "--name", "src"], env: noRepo)
        XCTAssertEqual(ls.status, 0, ls.summary)
        XCTAssertTrue(try ls.jsonLines().contains { try $0.string("path").hasSuffix("/a.txt") }, ls.summary)
        // Lock options too, where the command takes them.
        let nl = try cli.run(["--no-lock", "-r", r, "ls", "latest", "--name", "src", "--json"], env: noRepo)
        XCTAssertEqual(nl.status, 0, nl.summary)
        XCTAssertEqual(try cli.run(["--wait-lock", "5s", "-r", r, "forget", id, "--dry-run"], env: noRepo).status, 0)
        // An unknown option before the command is a usage error, as after it.
        let bad = try cli.run(["--no-such-option", "snapshots"], env: noRepo)
        XCTAssertEqual(bad.status, 2, bad.summary)
        XCTAssertTrue(bad.err.contains("no-such-option"), bad.summary)
        // -r without a value: usage error.
        XCTAssertEqual(try cli.run(["snapshots", "-r"], env: noRepo).status, 2)
        // The help mentions the short form.
        XCTAssertTrue(try ok(["snapshots", "--help"]).out.contains("-r, --repo"))
    }

    func testEnvFileIsHonouredByEveryCommand() throws {
        let envFile = tmp.appendingPathComponent("cairn.env")
        let passFile = tmp.appendingPathComponent("pass")
        try Data((password + "\n").utf8).write(to: passFile)
        // Private, as it must be: a passphrase file others can read is warned about (#15.19).
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: passFile.path)
        try Data("# repository settings\nexport CAIRN_REPO=\(repo.path)\nCAIRN_PASSWORD_FILE='\(passFile.path)'\n".utf8).write(to: envFile)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: envFile.path)
        let env: [String: String?] = ["CAIRN_REPO": nil, "CAIRN_PASSWORD": nil, "CAIRN_ENV_FILE": envFile.path]
        let src = try makeDir("src")
        try write(TestData.random(20_000, seed: 2), to: src.appendingPathComponent("f"))
        for args in [["init"], ["backup", src.path, "--name", "e"], ["snapshots"], ["ls", "latest"], ["stats"], ["scrub"],
                     ["key", "list"], ["forget", "--keep-last", "1"], ["prune"], ["locks"]] {
            let r = try cli.run(args, env: env)
            XCTAssertEqual(r.status, 0, r.summary)
            XCTAssertFalse(r.err.contains("warning"), r.summary)
        }
        let out = tmp.appendingPathComponent("out")
        let r = try cli.run(["restore", "latest", "--target", out.path], env: env)
        XCTAssertEqual(r.status, 0, r.summary)
        // Without the env file the same command has no repository.
        let none = try cli.run(["snapshots"], env: ["CAIRN_REPO": nil, "CAIRN_PASSWORD": nil])
        XCTAssertEqual(none.status, 2, none.summary)
        // An env file that cannot be read: a clear one-line error, exit 1.
        let missing = try cli.run(["snapshots"], env: ["CAIRN_ENV_FILE": tmp.appendingPathComponent("nope.env").path])
        XCTAssertEqual(missing.status, 1, missing.summary)
        XCTAssertTrue(missing.err.contains("env file"), missing.summary)
        XCTAssertEqual(missing.errLines.count, 1, missing.summary)
        // A world-readable env file is warned about (once, not once per layer).
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: envFile.path)
        let warned = try cli.run(["snapshots"], env: env)
        XCTAssertEqual(warned.status, 0, warned.summary)
        XCTAssertEqual(warned.errLines.filter { $0.contains("readable by every user") }.count, 1, warned.summary)
    }

    /// Every command takes --json, and its help says whether it prints one document or JSON lines.
    func testEveryCommandTakesJSONAndSaysWhichKind() throws {
        let commands: [[String]] = [
            ["init"], ["backup"], ["snapshots"], ["ls"], ["diff"], ["find"], ["stats"], ["restore"], ["key", "add"], ["key", "list"],
            ["key", "remove"], ["key", "passwd"], ["chunk"], ["index", "rebuild"], ["scrub"], ["repair", "blobs"], ["repair", "snapshots"],
            ["forget"], ["tag"], ["prune"], ["locks"], ["unlock"], ["pg", "dump"], ["pg", "basebackup"], ["pg", "restore"],
            ["pg", "restore-dump"], ["pg", "wal-check"], ["pg", "status"], ["wal-push"], ["wal-fetch"], ["redis", "backup"],
            ["redis", "restore"], ["plan", "check"], ["run"], ["status"], ["drill"], ["schedule", "install"], ["schedule", "list"],
            ["schedule", "remove"], ["copy"], ["report"], ["migrate"],
        ]
        for c in commands {
            let help = try ok(c + ["--help"]).out
            XCTAssertTrue(help.contains("--json"), "\(c.joined(separator: " ")) has no --json")
            let flat = help.replacingOccurrences(of: "\n", with: " ").split(separator: " ").joined(separator: " ")
            XCTAssertTrue(flat.contains("JSON document") || flat.contains("JSON lines"),
                          "\(c.joined(separator: " ")) --help does not say one JSON document or JSON lines:\n\(help)")
        }
    }
}

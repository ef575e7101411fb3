import Foundation
import XCTest

/// Snapshots record each path as given, made absolute (issue 17, defect 1):
/// `ls` shows full paths, `restore --target T` puts a path at T/PATH (so
/// `--target /` puts it back where it was), `--include` takes full paths, and
/// an `--include` that names nothing fails before anything is written (defect 5).
final class FullPathTests: CLITestCase {
    private func env() -> String {
        "CAIRN_REPO=\(Self.quote(repo.path)) CAIRN_CACHE_DIR=\(Self.quote(cache.path)) CAIRN_PASSWORD=\(Self.quote(password))"
    }

    /// A node directory like the runbook's: config and data under ~/.remesd.
    private func makeNode() throws -> (config: URL, data: URL) {
        let config = try makeDir("node/remes/.remesd/config"), data = try makeDir("node/remes/.remesd/data")
        try write(Data("moniker = \"n1\"\n".utf8), to: config.appendingPathComponent("config.toml"))
        try write(TestData.random(200_000, seed: 71), to: config.appendingPathComponent("keys/node_key.json"))
        try write(TestData.random(900_000, seed: 72), to: data.appendingPathComponent("blockstore.db/000001.ldb"))
        try write(Data("{}".utf8), to: data.appendingPathComponent("priv_validator_state.json"))
        return (config, data)
    }

    func testPathsAreRecordedListedAndRestoredInFull() throws {
        try initRepo()
        let (config, data) = try makeNode()
        // Relative arguments, from the caller's directory: recorded absolute, cleaned.
        let r = try Self.shell("cd \(Self.quote(tmp.appendingPathComponent("node/remes").path)) && \(env()) \(Self.quote(cli.binary.path)) backup .remesd/config ./.remesd/../.remesd/data/ --name node --json")
        XCTAssertEqual(r.status, 0, r.err)
        let snap = try XCTUnwrap(try snapshots().first)
        XCTAssertEqual(snap["paths"] as? [String], [config.path, data.path])

        // ls: every entry by its full path, the directories leading to them included.
        let ls = try ok(["ls", "latest"]).out
        for want in [config.path + "/config.toml", config.path + "/keys/node_key.json", data.path + "/blockstore.db/000001.ldb",
                     tmp.path + "/node/remes/.remesd"] {
            XCTAssertTrue(ls.split(separator: "\n").contains { $0.hasSuffix(" " + want) }, "\(want) in\n\(ls)")
        }
        let json = try ok(["ls", "latest", "--json"]).jsonLines().compactMap { $0["path"] as? String }
        XCTAssertTrue(json.contains(config.path + "/keys/node_key.json"), "\(json)")

        // restore --target T: each path at T/PATH, byte for byte with its metadata.
        let out = tmp.appendingPathComponent("out")
        try ok(["restore", "latest", "--target", out.path])
        assertTreesEqual(try TreeSnapshot.capture(config), try TreeSnapshot.capture(restored(config, under: out)), CompareOptions(), "config:")
        assertTreesEqual(try TreeSnapshot.capture(data), try TreeSnapshot.capture(restored(data, under: out)), CompareOptions(), "data:")

        // --include by full path (as ls prints it): only that, at its full path.
        let only = tmp.appendingPathComponent("only")
        try ok(["restore", "latest", "--target", only.path, "--include", config.path + "/keys"])
        XCTAssertEqual(FileManager.default.contents(atPath: restored(config, under: only).appendingPathComponent("keys/node_key.json").path),
                       TestData.random(200_000, seed: 71))
        XCTAssertFalse(FileManager.default.fileExists(atPath: restored(config, under: only).appendingPathComponent("config.toml").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: restored(data, under: only).path))

        // The runbook's --target /: the config comes back where it was.
        let before = try TreeSnapshot.capture(config)
        try FileManager.default.removeItem(at: config)
        try ok(["restore", "latest", "--target", "/", "--include", config.path])
        assertTreesEqual(before, try TreeSnapshot.capture(config), CompareOptions(), "restored in place:")
    }

    /// Two arguments ending in the same name are both kept; one inside another, or given twice, is stored once.
    func testSameLastNamesAndNestedArguments() throws {
        try initRepo()
        let a = try makeDir("x/conf"), b = try makeDir("y/conf")
        try write(Data("a".utf8), to: a.appendingPathComponent("f"))
        try write(Data("b".utf8), to: b.appendingPathComponent("f"))
        try write(Data("inner".utf8), to: a.appendingPathComponent("sub/g"))
        _ = try backup([a.path, b.path, a.appendingPathComponent("sub").path, a.path + "/", "--name", "two"])
        XCTAssertEqual(try snapshots().first?["paths"] as? [String], [a.path, b.path])
        let out = tmp.appendingPathComponent("out")
        try ok(["restore", "latest", "--target", out.path])
        XCTAssertEqual(FileManager.default.contents(atPath: restored(a, under: out).appendingPathComponent("f").path), Data("a".utf8))
        XCTAssertEqual(FileManager.default.contents(atPath: restored(b, under: out).appendingPathComponent("f").path), Data("b".utf8))
        XCTAssertEqual(FileManager.default.contents(atPath: restored(a, under: out).appendingPathComponent("sub/g").path), Data("inner".utf8))
        // A second backup reads nothing again: the parent is found at the full paths.
        let again = try backup([a.path, b.path, "--name", "two"])
        XCTAssertEqual(try again.int("unchanged_files"), 3, "\(again)")
    }

    /// An --include that names nothing fails with one line naming it, before anything is written.
    func testMissingIncludeFailsBeforeWritingAnything() throws {
        try initRepo()
        let (config, _) = try makeNode()
        _ = try backup([config.path, "--name", "node"])
        let target = tmp.appendingPathComponent("never")
        for includes in [["nope"], [config.path + "/nope"], [config.path + "/keys", config.path + "/missing.toml"], ["config/keys"]] {
            let r = try failsOneLine(["restore", "latest", "--target", target.path] + includes.flatMap { ["--include", $0] })
            XCTAssertTrue(r.err.contains(includes.last!) && r.err.contains("nothing was restored"), r.summary)
            XCTAssertFalse(r.out.contains("restored snapshot"), r.summary)
            XCTAssertFalse(FileManager.default.fileExists(atPath: target.path), "\(includes) created the target")
        }
        // An existing target is left as it was.
        let existing = try makeDir("existing")
        try failsOneLine(["restore", "latest", "--target", existing.path, "--include", config.path + "/keys", "--include", "/no/such"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: existing.path), [])
    }
}

import CairnRedis
import CairnRedisClient
import CairnTestSupport
import Foundation
import XCTest

/// `cairn redis backup/restore` against real redis-server processes.
final class RedisBackupTests: XCTestCase {
    var tmp: URL!
    var cairn: CairnRunner!

    override func setUpWithError() throws {
        cairn = try newRepository("redis")
        tmp = cairn.dir
    }

    /// What the server holds: DBSIZE and DEBUG DIGEST.
    private func fingerprint(_ c: RedisConnection) throws -> (keys: Int64, digest: String) {
        (try c.integer(["DBSIZE"]), try c.string(["DEBUG", "DIGEST"]))
    }

    /// Starts a fresh server on an RDB file and returns its fingerprint.
    private func load(_ rdb: URL, label: String) throws -> (keys: Int64, digest: String) {
        let dir = tmp.appendingPathComponent("load-\(label)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: rdb, to: dir.appendingPathComponent("dump.rdb"))
        let server = try RedisServer(dir: dir)
        defer { server.stop() }
        return try fingerprint(try server.connect())
    }

    func testBackupMutateBackupThenRestoreEachIntoAFreshServer() throws {
        let server = try RedisServer(dir: tmp.appendingPathComponent("live"))
        defer { server.stop() }
        let c = try server.connect()
        var data = RedisDataset(seed: 7)
        try data.populate(c, count: 4000)
        let day1 = try fingerprint(c)
        XCTAssertGreaterThan(day1.keys, 4000)
        // Diskless (the default: the fork streams to the socket, `$EOF:<mark>` framing).
        let b1 = try cairn.ok(["redis", "backup", "--url", server.url, "--name", "cache", "--json"]).json()
        XCTAssertEqual(b1["keys"] as? Int, Int(day1.keys))
        XCTAssertEqual(b1["rdb_version"] as? Int, 10)

        try data.churn(c, updated: 0.05, deleted: 0.02)
        let day2 = try fingerprint(c)
        XCTAssertNotEqual(day1.digest, day2.digest)
        // Disk-based transfer (`$<length>` framing).
        _ = try c.command(["CONFIG", "SET", "repl-diskless-sync", "no"])
        let b2 = try cairn.ok(["redis", "backup", "--url", server.url, "--name", "cache", "--json"]).json()
        XCTAssertEqual(b2["keys"] as? Int, Int(day2.keys))
        XCTAssertTrue(server.log.contains("target: replicas sockets"), "the first backup was not diskless")
        XCTAssertTrue(server.log.contains("target: disk"), "the second backup was not disk-based")

        for (i, (b, expected)) in [(b1, day1), (b2, day2)].enumerated() {
            let id = try XCTUnwrap(b["snapshot_id"] as? String)
            let out = tmp.appendingPathComponent("restored-\(i).rdb")
            let r = try cairn.ok(["redis", "restore", id, "--target", out.path, "--json"]).json()
            XCTAssertEqual(r["keys"] as? Int, Int(expected.keys))
            let loaded = try load(out, label: "\(i)")
            XCTAssertEqual(loaded.keys, expected.keys, "DBSIZE after restoring snapshot \(i + 1)")
            XCTAssertEqual(loaded.digest, expected.digest, "DEBUG DIGEST after restoring snapshot \(i + 1)")
            // redis-check-rdb agrees when it is installed.
            if FileManager.default.isExecutableFile(atPath: "/usr/bin/redis-check-rdb") {
                XCTAssertTrue(try shell("/usr/bin/redis-check-rdb '\(out.path)'").out.contains("Checksum OK"))
            }
        }
        // The restore refuses to overwrite without --force, and non-Redis snapshots.
        let existing = tmp.appendingPathComponent("restored-0.rdb").path
        try cairn.fails(["redis", "restore", "latest", "--name", "cache", "--target", existing])
        try cairn.ok(["redis", "restore", "latest", "--name", "cache", "--target", existing, "--force"])
        let plain = tmp.appendingPathComponent("plain.txt")
        try Data("not redis".utf8).write(to: plain)
        try cairn.ok(["backup", plain.path, "--name", "plain"])
        try cairn.fails(["redis", "restore", "latest", "--name", "plain", "--target", tmp.appendingPathComponent("x.rdb").path])
    }

    func testCorruptTruncatedOrForeignRDBNeverBecomesASnapshot() throws {
        let server = try RedisServer(dir: tmp.appendingPathComponent("live"))
        defer { server.stop() }
        let c = try server.connect()
        var data = RedisDataset(seed: 11)
        try data.populate(c, count: 2000)
        _ = try c.command(["SAVE"])
        let good = try Data(contentsOf: server.dir.appendingPathComponent("dump.rdb"))
        XCTAssertGreaterThan(good.count, 100_000)

        var cases: [(String, Data)] = []
        for cut in [0, 4, 9, 10, good.count / 3, good.count - 9, good.count - 1] { cases.append(("truncated at \(cut)", good.prefix(cut))) }
        for at in [12, good.count / 2, good.count - 3] {
            var d = good; d[at] ^= 0x01; cases.append(("bit flipped at \(at)", d))
        }
        var magic = good; magic[0] = UInt8(ascii: "r"); cases.append(("wrong magic", magic))
        var version = good; version[8] = UInt8(ascii: "9"); version[7] = UInt8(ascii: "9"); cases.append(("version 99", version))
        cases.append(("trailing garbage", good + Data([0])))
        for (label, bytes) in cases {
            let f = tmp.appendingPathComponent("bad.rdb")
            try bytes.write(to: f)
            let r = try cairn.fails(["redis", "backup", "--file", f.path, "--url", server.url])
            XCTAssertTrue(r.err.contains("no snapshot was saved"), "\(label): \(r.summary)")
        }
        XCTAssertEqual(try cairn.snapshotCount(), 0, "a bad RDB became a snapshot")
        // A missing file and a password in the URL: clean one-line errors.
        try cairn.fails(["redis", "backup", "--file", tmp.appendingPathComponent("absent.rdb").path, "--url", server.url])
        let r = try cairn.fails(["redis", "backup", "--url", "redis://:hunter2@127.0.0.1:\(server.port)"], code: 2)
        XCTAssertTrue(r.err.contains("REDISCLI_AUTH"), r.summary)
        XCTAssertFalse(r.err.contains("hunter2"), r.summary)
        // The good file goes in.
        let f = tmp.appendingPathComponent("good.rdb")
        try good.write(to: f)
        try cairn.ok(["redis", "backup", "--file", f.path, "--url", server.url])
        XCTAssertEqual(try cairn.snapshotCount(), 1)
    }

    /// The server dies while it streams the RDB: no snapshot.
    func testServerKilledMidTransferLeavesNoSnapshot() throws {
        let server = try RedisServer(dir: tmp.appendingPathComponent("live"), config: ["rdb-key-save-delay 200"])
        let c = try server.connect()
        var data = RedisDataset(seed: 5)
        try data.populate(c, count: 3000) // 3000 keys × 200 µs ≈ 0.6 s of saving
        let killer = Thread { usleep(250_000); server.stop() }
        killer.start()
        let r = try cairn.fails(["redis", "backup", "--url", server.url])
        XCTAssertTrue(r.err.contains("no snapshot was saved") || r.err.contains("closed the connection"), r.summary)
        XCTAssertEqual(try cairn.snapshotCount(), 0)
    }

    /// --file waits for a running BGSAVE: the old plan copied dump.rdb right after BGSAVE and got nothing.
    func testFileBackupWaitsForARunningBackgroundSave() throws {
        let server = try RedisServer(dir: tmp.appendingPathComponent("live"), config: ["rdb-key-save-delay 300"])
        defer { server.stop() }
        let c = try server.connect()
        var data = RedisDataset(seed: 3)
        try data.populate(c, count: 3000)
        let keys = try c.integer(["DBSIZE"])
        let dump = server.dir.appendingPathComponent("dump.rdb")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dump.path))
        XCTAssertEqual(try c.string(["BGSAVE"]), "Background saving started")
        // Right now there is no dump.rdb at all; cairn must wait until there is a complete one.
        let b = try cairn.ok(["redis", "backup", "--file", dump.path, "--url", server.url, "--json"]).json()
        XCTAssertEqual(b["keys"] as? Int, Int(keys))
    }

    func testPasswordFromEnvironmentOrFileNeverFromTheCommandLine() throws {
        let secret = "s3cret-\(UInt32.random(in: 0...UInt32.max))"
        let server = try RedisServer(dir: tmp.appendingPathComponent("live"), config: ["requirepass \(secret)"])
        defer { server.stop() }
        let c = try server.connect(password: secret)
        _ = try c.command(["SET", "a", "1"])
        let none = try cairn.fails(["redis", "backup", "--url", server.url])
        XCTAssertTrue(none.err.contains("REDISCLI_AUTH"), none.summary)
        let wrong = try cairn.fails(["redis", "backup", "--url", server.url], env: ["REDISCLI_AUTH": "nope"])
        XCTAssertTrue(wrong.err.lowercased().contains("authentication"), wrong.summary)
        let viaEnv = try cairn.ok(["redis", "backup", "--url", server.url], env: ["REDISCLI_AUTH": secret])
        let pwFile = tmp.appendingPathComponent("redis.pass")
        try Data((secret + "\n").utf8).write(to: pwFile)
        let viaFile = try cairn.ok(["redis", "backup", "--url", server.url, "--redis-password-file", pwFile.path])
        for r in [none, wrong, viaEnv, viaFile] { XCTAssertFalse((r.out + r.err).contains(secret), "the password leaked: \(r.summary)") }
        XCTAssertEqual(try cairn.snapshotCount(), 2)
    }
}

import CairnRedis
import CairnRedisClient
import CairnTestSupport
import Foundation
import XCTest

/// RDBs a real redis-server writes with `rdbchecksum no`: refused by default,
/// accepted with --allow-no-checksum, and then only when their payload passes
/// what redis-check-rdb checks: every corruption redis-check-rdb finds in them,
/// Cairn finds too.
final class RDBChecksumTests: XCTestCase {
    var tmp: URL!
    var cairn: CairnRunner!

    override func setUpWithError() throws {
        cairn = try newRepository("rdbchecksum")
        tmp = cairn.dir
    }

    /// Every encoding Redis 7 writes: strings (LZF-compressed and integers),
    /// quicklists, intsets and hashtable sets, listpack and skiplist sorted sets,
    /// listpack and hashtable hashes, streams with consumer groups, pending
    /// entries and several consumers.
    private func populate(_ c: RedisConnection) throws {
        var cmds: [[String]] = []
        for i in 0..<300 {
            cmds.append(["SET", "str:\(i)", String(repeating: "value \(i) ", count: 1 + i % 40)])   // long ones LZF-compressed
            cmds.append(["SET", "int:\(i)", String(i * 7919)])
            cmds.append(["RPUSH", "list:\(i % 20)", "item \(i)", String(i)])
            cmds.append(["SADD", "ints:\(i % 10)", String(i), String(i * 3)])
            cmds.append(["SADD", "words:\(i % 10)", "w\(i)", "x\(i)"])
            cmds.append(["ZADD", "small:\(i % 10)", String(Double(i) / 3), "m\(i)"])
            cmds.append(["HSET", "user:\(i % 25)", "f\(i)", "v\(i)"])
        }
        for i in 0..<200 {
            cmds.append(["ZADD", "big:zset", String(i), "member-\(i)-" + String(repeating: "z", count: 70)])
            cmds.append(["HSET", "big:hash", "field-\(i)", String(repeating: "h", count: 80)])
            cmds.append(["SADD", "big:set", "member-\(i)-" + String(repeating: "s", count: 70)])
            cmds.append(["XADD", "events", "*", "kind", "k\(i % 7)", "n", String(i)])
        }
        cmds.append(["XGROUP", "CREATE", "events", "workers", "0"])
        cmds.append(["XGROUP", "CREATE", "events", "audit", "0"])
        try c.pipeline(cmds)
        // Pending entries owned by two consumers, some acknowledged.
        for consumer in ["alice", "bob"] {
            _ = try c.command(["XREADGROUP", "GROUP", "workers", consumer, "COUNT", "15", "STREAMS", "events", ">"])
        }
        _ = try c.command(["XREADGROUP", "GROUP", "audit", "carol", "COUNT", "5", "STREAMS", "events", ">"])
        let pending = try c.command(["XPENDING", "events", "workers", "-", "+", "3"])
        if case .array(let entries?) = pending {
            for e in entries { if case .array(let fields?) = e, let id = fields.first?.text { _ = try c.command(["XACK", "events", "workers", id]) } }
        }
    }

    private func checkRDB(_ url: URL) throws -> Bool {
        guard let tool = ["/usr/bin/redis-check-rdb", "/usr/local/bin/redis-check-rdb"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("redis-check-rdb is not installed")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = [url.path]
        p.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus == 0
    }

    func testChecksumlessRDBRefusedByDefaultAndEveryCorruptionRedisFindsIsFound() throws {
        let dir = tmp.appendingPathComponent("live")
        let server = try RedisServer(dir: dir, config: ["rdbchecksum no"])
        defer { server.stop() }
        let c = try server.connect()
        try populate(c)
        _ = try c.command(["SAVE"])
        let dump = dir.appendingPathComponent("dump.rdb")
        let rdb = [UInt8](try Data(contentsOf: dump))
        XCTAssertEqual(Array(rdb.suffix(8)), [UInt8](repeating: 0, count: 8), "rdbchecksum no writes a zero checksum")
        XCTAssertTrue(try checkRDB(dump), "redis-check-rdb accepts the server's own file")
        let summary = try RDBValidator.validate(bytes: rdb)
        XCTAssertFalse(summary.checksumVerified)
        XCTAssertEqual(summary.uncheckedValues, 0)

        // Refused by default, from the file and over replication; no snapshot.
        for args in [["--file", dump.path, "--url", server.url], ["--url", server.url]] {
            let r = try cairn.fails(["redis", "backup", "--name", "r"] + args)
            XCTAssertTrue(r.err.contains("no checksum") && r.err.contains("--allow-no-checksum"), r.err)
        }
        XCTAssertEqual(try cairn.snapshotCount(), 0)
        // Accepted when asked, recorded as such, and it restores to what the server holds.
        try cairn.ok(["redis", "backup", "--name", "r", "--file", dump.path, "--url", server.url, "--allow-no-checksum"])
        let j = try cairn.ok(["snapshots", "--json"]).out
        XCTAssertTrue(j.contains("\"redis.checksum\":\"disabled\""), j)
        let restored = tmp.appendingPathComponent("restored.rdb")
        try cairn.ok(["redis", "restore", "latest", "--name", "r", "--target", restored.path])
        XCTAssertEqual([UInt8](try Data(contentsOf: restored)), rdb)

        // Corruption: single flipped bytes across the payload. Whatever redis-check-rdb refuses, Cairn refuses.
        var rng = SystemRandomNumberGenerator()
        var refusedByRedis = 0, refusedByCairn = 0, missed: [String] = []
        let variant = tmp.appendingPathComponent("variant.rdb")
        let trials = ProcessInfo.processInfo.environment["CAIRN_RDB_FLIP_TRIALS"].flatMap { Int($0) } ?? 150   // more for a longer campaign
        for t in 0..<trials {
            var b = rdb
            let at = Int.random(in: 9..<(rdb.count - 9), using: &rng)
            b[at] ^= UInt8(1 << (t % 8))
            try Data(b).write(to: variant)
            let redisRefuses = !(try checkRDB(variant))
            let cairnRefuses: Bool
            do { _ = try RDBValidator.validate(bytes: b); cairnRefuses = false } catch { cairnRefuses = true }
            if redisRefuses { refusedByRedis += 1 }
            if cairnRefuses { refusedByCairn += 1 }
            if redisRefuses && !cairnRefuses { missed.append("byte \(at) ^ \(1 << (t % 8))") }
        }
        XCTAssertEqual(missed, [], "redis-check-rdb refused these, Cairn accepted them")
        XCTAssertGreaterThan(refusedByRedis, 20, "the campaign hit structure often enough to mean something")
        print("flipped bytes in a \(rdb.count)-byte checksum-less RDB: \(trials) variants, redis-check-rdb refused \(refusedByRedis), Cairn \(refusedByCairn)")

        // Every intset's type byte (11) turned into a zipmap's (9): the one miss random flips found (an
        // intset's bytes read as a zipmap were checked for framing only). redis-check-rdb refuses each, so must Cairn.
        var typeFlips = 0
        for key in ["ints:0", "ints:3", "ints:7"] {
            let tag = [UInt8(11), UInt8(key.utf8.count)] + Array(key.utf8)
            let typeAt = try XCTUnwrap(findSubsequence(tag, in: rdb), "intset \(key) in the RDB")
            var b = rdb
            b[typeAt] = 9
            try Data(b).write(to: variant)
            XCTAssertFalse(try checkRDB(variant), "redis-check-rdb refuses \(key) read as a zipmap")
            XCTAssertThrowsError(try RDBValidator.validate(bytes: b), "\(key) read as a zipmap")
            typeFlips += 1
        }
        XCTAssertEqual(typeFlips, 3)

        // Through the binary, with --allow-no-checksum: a structurally broken RDB never becomes a snapshot.
        let streamAt = try XCTUnwrap(findSubsequence(Array("workers".utf8), in: rdb))   // the consumer group and its pending entries
        var candidates: [[UInt8]] = []
        for k in 0..<40 {
            var v = rdb
            v[streamAt + 7 + k] ^= 0x5A
            candidates.append(v)
        }
        var triedCLI = 0
        for v in candidates where triedCLI < 3 {
            try Data(v).write(to: variant)
            guard !(try checkRDB(variant)) else { continue }
            triedCLI += 1
            let r = try cairn.fails(["redis", "backup", "--name", "bad", "--file", variant.path, "--allow-no-checksum"])
            XCTAssertTrue(r.err.contains("no snapshot was saved"), r.err)
        }
        XCTAssertGreaterThan(triedCLI, 0)
        XCTAssertEqual(try cairn.snapshotCount(name: "bad"), 0)
    }

    private func findSubsequence(_ needle: [UInt8], in hay: [UInt8]) -> Int? {
        guard needle.count <= hay.count else { return nil }
        for i in 0...(hay.count - needle.count) where hay[i] == needle[0] && Array(hay[i..<i + needle.count]) == needle { return i }
        return nil
    }
}

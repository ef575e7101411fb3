import CairnEngine
import CairnFormat
import CairnPlan
import CairnRedis
import CairnRedisClient
import Foundation

/// Redis: `cairn redis backup` (CairnRedisSource); the drill restores the RDB (validated), loads
/// it into a temporary redis-server and compares the key count with the one the backup recorded.
struct RedisSourceAdapter: SourceAdapter {
    var declaration: SourceDeclaration {
        SourceDeclaration(kind: .redis, keys: [.init("url", .string), .init("rdb-file", .string), .init("password-file", .string),
                                                .init("allow-no-checksum", .bool)])
    }

    /// A Redis backup's stream (its keys all under `redis.`) was always cut with the `rdb` profile.
    var unrecordedProfile: UnrecordedProfile? {
        UnrecordedProfile(profile: ChunkerProfileName.rdb) { s in
            s.sourceKind == .stream && s.extra.keys.contains { $0.hasPrefix(Snapshot.ExtraKey.redisPrefix) }
        }
    }

    func backup(_ s: PlanSource, waitLock: String) -> SourceBackup {
        var a = ["redis", "backup", "--name", s.snapshotName] + s.tags.flatMap { ["--tag", $0] } + ["--wait-lock", waitLock, "--json"]
        if let u = s.redisURL { a += ["--url", u] }
        if let f = s.rdbFile { a += ["--file", f] }
        if let p = s.redisPasswordFile { a += ["--redis-password-file", p] }
        if s.redisAllowNoChecksum { a.append("--allow-no-checksum") }
        return .command(a)
    }

    func drill(_ d: DrillRequest) async throws -> String {
        let rdb = d.scratch + "/redis/dump.rdb", snap = d.snapshot, env = d.environment, repo = d.repository
        try FileManager.default.createDirectory(atPath: d.scratch + "/redis", withIntermediateDirectories: true)
        try d.timer.run("restore") {
            try env.cairnChecked(["redis", "restore", snap.id, "--target", rdb], repo, "cairn redis restore")
        }
        let server = try d.timer.run("load") { try TemporaryRedis(rdb: rdb, server: d.plan.drill.redisServer) }
        defer { server.stop() }
        return try d.timer.run("checks") {
            let loaded = RedisKeyspace.keyCount(info: try server.command(["INFO", "keyspace"]))
            var sampled = 0
            for _ in 0..<min(5, Int(loaded)) {
                let key = try server.command(["RANDOMKEY"])
                guard !key.isEmpty else { break }
                sampled += 1
            }
            if let recorded = snap.extra[.redisKeys].flatMap(UInt64.init) {
                let expiring = snap.extra[.redisKeysWithExpiry].flatMap(UInt64.init) ?? 0
                guard RedisKeyspace.loadMatches(loaded: loaded, recorded: recorded, expiring: expiring) else {
                    throw DrillFailure("redis-server loaded \(loaded) keys, the backup recorded \(recorded) (\(expiring) with a TTL)")
                }
                return "\(loaded) of \(recorded) recorded keys loaded, \(sampled) sampled"
            }
            return "\(loaded) keys loaded (the backup recorded no count), \(sampled) sampled"
        }
    }
}

extension SourceKind {
    /// `cairn redis backup`: an RDB from a live server (or an RDB file).
    public static let redis: SourceKind = "redis"
}

extension PlanSource {
    /// redis: `redis://[USER@]HOST[:PORT]`.
    public var redisURL: String? { settings.string("url") }
    /// redis: ingest this RDB file instead of fetching one.
    public var rdbFile: String? { settings.string("rdb-file") }
    /// redis: the file holding the Redis password.
    public var redisPasswordFile: String? { settings.string("password-file") }
    /// redis: accept RDBs without a checksum (`rdbchecksum no`).
    public var redisAllowNoChecksum: Bool { settings.bool("allow-no-checksum") }
}

/// What validating an RDB found: enough to record in a snapshot and to
/// compare with the server (`DBSIZE` per database).
public struct RDBSummary: Sendable, Equatable {
    /// The RDB format version (10 for Redis 7.0, 11 for 7.2, 12 for 7.4).
    public var version: Int = 0
    /// Keys per database number.
    public var keysPerDatabase: [UInt64: UInt64] = [:]
    /// Keys that carry an expiry time.
    public var keysWithExpiry: UInt64 = 0
    /// Auxiliary fields (`redis-ver`, `ctime`, `repl-id`, ...), values cut to 256 bytes.
    public var aux: [String: String] = [:]
    /// Function libraries (Redis 7 `FUNCTION`).
    public var functions: UInt64 = 0
    /// The stored CRC-64; 0 when the writer had `rdbchecksum no` (nothing to verify).
    public var storedChecksum: UInt64 = 0
    /// True when a non-zero checksum was present and matched.
    public var checksumVerified = false
    /// Values whose contents were too large to check in bounded memory (a
    /// container over 8 MiB, a collection of over 2 million members): only
    /// the checksum vouches for them.
    public var uncheckedValues: UInt64 = 0
    /// Total bytes of the RDB, trailer included.
    public var byteCount: UInt64 = 0

    public init() {}

    /// All keys of all databases.
    public var keys: UInt64 { keysPerDatabase.values.reduce(0, +) }

    /// Facts for a snapshot's `extra` map, under `redis.`.
    public var snapshotFacts: [String: String] {
        var f = [String: String](extra: [
            .redisRDBVersion: String(version),
            .redisKeys: String(keys),
            .redisKeysWithExpiry: String(keysWithExpiry),
            .redisRDBBytes: String(byteCount),
            .redisChecksum: checksumVerified ? String(storedChecksum, radix: 16) : "disabled",
        ])
        for (db, n) in keysPerDatabase { f[.redisDatabaseKeys(db)] = String(n) }
        if let v = aux["redis-ver"] { f[.redisServerVersion] = v }
        if functions > 0 { f[.redisFunctions] = String(functions) }
        return f
    }
}

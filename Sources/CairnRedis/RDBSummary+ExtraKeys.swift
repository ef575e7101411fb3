import CairnFormat

/// The `extra` keys of a Redis backup's snapshot (all under `redis.`, which tells a copy to re-chunk the
/// stream with the `rdb` profile: CairnOps' `RedisSourceAdapter.unrecordedProfile`).
extension Snapshot.ExtraKey {
    /// The prefix of every key a Redis backup writes.
    public static let redisPrefix = "redis."
    /// The RDB format version of the file stored.
    public static let redisRDBVersion = Snapshot.ExtraKey("redis.rdb_version")
    /// Keys of every database, as the validator counted them.
    public static let redisKeys = Snapshot.ExtraKey("redis.keys")
    /// Keys with a TTL (they may be gone when the RDB is loaded later).
    public static let redisKeysWithExpiry = Snapshot.ExtraKey("redis.keys_with_expiry")
    /// Bytes of the RDB file.
    public static let redisRDBBytes = Snapshot.ExtraKey("redis.rdb_bytes")
    /// The file's CRC-64 in hex, or `disabled` (a server with `rdbchecksum no`).
    public static let redisChecksum = Snapshot.ExtraKey("redis.checksum")
    /// The `redis-ver` the server wrote into the file.
    public static let redisServerVersion = Snapshot.ExtraKey("redis.server_version")
    /// Functions (Redis 7 libraries) in the file.
    public static let redisFunctions = Snapshot.ExtraKey("redis.functions")
    /// Where the RDB came from: `file` or `replication`.
    public static let redisSource = Snapshot.ExtraKey("redis.source")
    /// The server a replication backup read from.
    public static let redisServer = Snapshot.ExtraKey("redis.server")
    /// How long a file backup waited for a running BGSAVE (or why it could not ask).
    public static let redisBackgroundSaveWait = Snapshot.ExtraKey("redis.bgsave_wait")
    /// The server's LASTSAVE when a file backup read the file.
    public static let redisLastSaveTime = Snapshot.ExtraKey("redis.last_save_time")

    /// Keys of one database.
    public static func redisDatabaseKeys(_ db: UInt64) -> Snapshot.ExtraKey { Snapshot.ExtraKey("redis.db\(db).keys") }
}

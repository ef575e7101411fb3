/// What a Redis server says about its keys (`INFO keyspace`), and whether a loaded RDB holds what its
/// backup recorded: a restore drill's proof.
public enum RedisKeyspace {
    /// The keys of every database in an `INFO keyspace` reply (`db0:keys=12,expires=3,avg_ttl=0` lines);
    /// lines it cannot read count nothing, and the sum saturates.
    public static func keyCount(info: String) -> UInt64 {
        var total: UInt64 = 0
        for line in info.split(whereSeparator: \.isNewline) where line.hasPrefix("db") {
            guard let fields = line.split(separator: ":", maxSplits: 1).last?.split(separator: ","),
                  let keys = fields.first(where: { $0.hasPrefix("keys=") }).flatMap({ UInt64($0.dropFirst(5)) }) else { continue }
            let (sum, overflow) = total.addingReportingOverflow(keys)
            total = overflow ? .max : sum
        }
        return total
    }

    /// Whether `loaded` keys after loading an RDB match a backup that recorded `recorded` keys, `expiring`
    /// of them with a TTL: keys whose TTL passed since the backup are dropped on load, so at most those may
    /// be missing, and none may be added. (The counts come from a snapshot: any value is handled.)
    public static func loadMatches(loaded: UInt64, recorded: UInt64, expiring: UInt64) -> Bool {
        loaded <= recorded && recorded - loaded <= expiring
    }
}

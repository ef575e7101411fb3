import CairnRedisClient
import CairnTestSupport

/// Deterministic Redis contents of every common type, and a daily churn.
struct RedisDataset {
    private var rng: SplitMix
    /// Keys created so far (index → name), including deleted ones.
    private(set) var next = 0
    private var live: [Int] = []

    init(seed: UInt64) { rng = SplitMix(seed) }

    private mutating func word() -> String {
        let words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima"]
        return words[Int(rng.next() % UInt64(words.count))]
    }

    private mutating func json(_ i: Int) -> String {
        let name = word() + "-" + word()
        let score = String(rng.next() % 100000)
        let tags = "[\"" + word() + "\",\"" + word() + "\"]"
        let note = [word(), word(), word(), word()].joined(separator: " ")
        var out = "{\"id\":" + String(i)
        out += ",\"name\":\"" + name + "\",\"score\":" + score
        out += ",\"tags\":" + tags + ",\"note\":\"" + note + "\"}"
        return out
    }

    /// Commands that (re)write key `i` with fresh content of its type, TTL on one key in ten.
    private mutating func write(_ i: Int) -> [[String]] {
        let k = "k:\(i)"
        var cmds: [[String]] = [["DEL", k]]
        switch i % 20 {
        case 0...6, 18, 19: cmds.append(["SET", k, json(i)])
        case 7: cmds.append(["SET", k, String(rng.next() % 1_000_000)])
        case 8...10:
            let name = word(), city = word(), visits = String(rng.next() % 1000), plan = word(), bio = json(i)
            cmds.append(["HSET", k, "name", name, "city", city, "visits", visits, "plan", plan, "bio", bio])
        case 11:
            var c: [String] = ["SADD", k]
            for _ in 0..<6 { c.append(String(rng.next() % 10000)) } // intset
            cmds.append(c)
        case 12:
            var c: [String] = ["SADD", k]
            for _ in 0..<6 { c.append(word() + String(rng.next() % 100)) }
            cmds.append(c)
        case 13, 14:
            var c: [String] = ["ZADD", k]
            for _ in 0..<6 {
                let score: Double = Double(rng.next() % 10000) / 7
                c.append(String(score)); c.append(word() + String(rng.next() % 1000))
            }
            cmds.append(c)
        case 15, 16:
            var c: [String] = ["RPUSH", k]
            for _ in 0..<8 { c.append(json(i)) }
            cmds.append(c)
        default:
            for _ in 0..<2 {
                let event = word(), payload = json(i)
                cmds.append(["XADD", k, "*", "event", event, "payload", payload])
            }
            if i % 100 == 17 { cmds.append(["XGROUP", "CREATE", k, "workers", "0"]) }
        }
        if i % 10 == 3 { cmds.append(["EXPIRE", k, String(100_000 + Int(rng.next() % 100_000))]) }
        return cmds
    }

    /// Fills an empty server with `count` keys plus a few large values.
    mutating func populate(_ c: RedisConnection, count: Int) throws {
        var cmds: [[String]] = []
        for _ in 0..<count { cmds += write(next); live.append(next); next += 1 }
        var hash: [String] = ["HSET", "big:hash"]                   // hashtable encoding
        for f in 0..<300 { hash.append("f\(f)"); hash.append(json(f)) }
        var list: [String] = ["RPUSH", "big:list"]                  // many quicklist nodes
        for n in 0..<2000 { list.append(json(n)) }
        var zset: [String] = ["ZADD", "big:zset"]                   // skiplist encoding
        for n in 0..<300 { zset.append(String(n)); zset.append("m\(n)") }
        let big = String(repeating: json(1), count: 600)           // LZF-compressed
        cmds += [hash, list, zset, ["SET", "big:string", big]]
        cmds.append(["XGROUP", "CREATE", "big:stream", "g", "$", "MKSTREAM"])
        cmds.append(["XADD", "big:stream", "*", "a", "1"])
        cmds.append(["XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "big:stream", ">"]) // a pending entry
        try c.pipeline(cmds)
    }

    /// One day: `updated` share of live keys rewritten, `deleted` removed, as many new as deleted.
    mutating func churn(_ c: RedisConnection, updated: Double = 0.01, deleted: Double = 0.005) throws {
        var cmds: [[String]] = []
        let u = Int(Double(live.count) * updated), d = Int(Double(live.count) * deleted)
        for _ in 0..<u { cmds += write(live[Int(rng.next() % UInt64(live.count))]) }
        for _ in 0..<d {
            let at = Int(rng.next() % UInt64(live.count))
            cmds.append(["DEL", "k:\(live[at])"])
            live.swapAt(at, live.count - 1); live.removeLast()
        }
        for _ in 0..<d { cmds += write(next); live.append(next); next += 1 }
        try c.pipeline(cmds)
    }
}

/// A small seeded generator (SplitMix64).
struct SplitMix {
    private var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

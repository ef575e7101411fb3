import CairnRetention
import Foundation

/// `forget`'s selection over snapshots as the store holds them: any time from
/// Int64.min to Int64.max nanoseconds, any names, hosts and tags (anyone
/// holding the key writes snapshots), under a policy whose durations come as
/// text (`--keep-within`, a plan's `keep`).
///
/// Layout: time zone (byte), six counts (bytes, 255 = unlimited), a duration
/// text (length byte, text) for `within` and each `within-*`, then snapshots:
/// time (i64), group byte (name, host and tag picked from small sets).
enum RetentionTarget {
    static let zones = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Pacific/Kiritimati"].compactMap(TimeZone.init(identifier:))
    static let now: Int64 = 1_700_000_000_000_000_000

    static let target = FuzzTarget(
        name: "retention", maxLength: 4096, summary: "RetentionDuration.parse and Retention.apply over snapshot times",
        seeds: {
            func snap(_ t: Int64, _ g: UInt8) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: t >> (8 * $0)) } + [g] }
            func text(_ s: String) -> [UInt8] { [UInt8(s.utf8.count)] + Array(s.utf8) }
            let head: [UInt8] = [1, 3, 24, 7, 4, 12, 255] + text("2y") + text("48h") + text("7d") + text("") + text("1y6m") + text("")
            let day: Int64 = 86_400_000_000_000
            return [head + (0..<30).flatMap { snap(now - Int64($0) * day / 3, UInt8($0 % 7)) },
                    head + snap(.min, 0) + snap(.max, 1) + snap(0, 2) + snap(now, 3)]
        },
        run: run)

    static func run(_ bytes: [UInt8]) {
        var input = FuzzInput(bytes)
        let zone = zones[Int(input.byte()) % zones.count]
        var policy = RetentionPolicy()
        func count() -> Int { let b = input.byte(); return b == 255 ? RetentionPolicy.unlimited : Int(b) }
        policy.last = count(); policy.hourly = count(); policy.daily = count()
        policy.weekly = count(); policy.monthly = count(); policy.yearly = count()
        func duration() -> RetentionDuration? {
            let text = input.take(Int(input.byte())).text
            return text.isEmpty ? nil : RetentionDuration.parse(text)
        }
        policy.within = duration(); policy.withinHourly = duration(); policy.withinDaily = duration()
        policy.withinWeekly = duration(); policy.withinMonthly = duration(); policy.withinYearly = duration()
        if input.byte() & 1 == 1 { policy.tags = [["daily"], [""]] }
        var snapshots: [RetentionSnapshot<String>] = []
        while input.rest.count >= 9 {
            let t = input.take(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let g = input.byte()
            snapshots.append(RetentionSnapshot(id: String(snapshots.count), timeNanos: Int64(bitPattern: t), name: ["db", "files"][Int(g & 1)],
                                               host: ["a", "b"][Int(g >> 1 & 1)], tags: g & 4 == 0 ? [] : ["daily"]))
        }
        for (_, group) in Retention.group(snapshots, by: [.host, .name]) {
            let decisions = Retention.apply(policy, to: group, now: now, timeZone: zone)
            require(decisions.count == group.count, "a decision per snapshot")
        }
    }
}

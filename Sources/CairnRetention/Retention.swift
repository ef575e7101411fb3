import Foundation

/// restic's `forget` selection, without I/O. Calendar periods are taken in a
/// given time zone (the CLI passes the local one): hours, days, ISO 8601
/// weeks (Monday to Sunday, week-numbering year), months and years.
public enum Retention {
    /// A counted rule (`last`, `daily`, ...) as `apply` uses it up.
    private struct Counter { var kind: RetentionReason.Kind; var period: Period; var remaining: Int; var last: Int? = nil; var kept = 0 }
    /// A `within` rule (`within`, `daily within`, ...): its period and how far back it reaches.
    private struct Window { var kind: RetentionReason.Kind; var period: Period; var duration: RetentionDuration?; var last: Int? = nil }

    /// Applies `policy` to one group of snapshots. Returns a decision for each,
    /// newest first (ties in time: by id).
    ///
    /// - Parameters:
    ///   - now: durations count back from the newest snapshot that is not in
    ///     the future relative to `now`; snapshots in the future are kept by
    ///     any `within` rule.
    ///   - keepOldest: keep the oldest snapshot of the group for a count that
    ///     is not used up (restic ≥ 0.16). False reproduces restic 0.14/0.15,
    ///     for the oracle test against an older restic only.
    public static func apply<ID>(_ policy: RetentionPolicy, to snapshots: [RetentionSnapshot<ID>], now: Int64,
                                 timeZone: TimeZone, keepOldest: Bool = true) -> [RetentionDecision<ID>] {
        let list = snapshots.sorted { ($0.timeNanos, $1.id) > ($1.timeNanos, $0.id) }
        if policy.isEmpty {
            return list.map { RetentionDecision(snapshot: $0, keep: true, reasons: [RetentionReason(kind: .emptyPolicy)]) }
        }
        guard !list.isEmpty else { return [] }
        let clock = LocalClock(timeZone: timeZone)

        var counters = [
            Counter(kind: .last, period: .ordinal, remaining: policy.last),
            Counter(kind: .hourly, period: .hour, remaining: policy.hourly),
            Counter(kind: .daily, period: .day, remaining: policy.daily),
            Counter(kind: .weekly, period: .isoWeek, remaining: policy.weekly),
            Counter(kind: .monthly, period: .month, remaining: policy.monthly),
            Counter(kind: .yearly, period: .year, remaining: policy.yearly),
        ]
        var windows = [
            Window(kind: .withinHourly, period: .hour, duration: policy.withinHourly),
            Window(kind: .withinDaily, period: .day, duration: policy.withinDaily),
            Window(kind: .withinWeekly, period: .isoWeek, duration: policy.withinWeekly),
            Window(kind: .withinMonthly, period: .month, duration: policy.withinMonthly),
            Window(kind: .withinYearly, period: .year, duration: policy.withinYearly),
        ]

        // The newest snapshot that is not in the future; none: every snapshot counts as within.
        let latest = list.filter { $0.timeNanos < now }.map(\.timeNanos).max()
        func threshold(_ d: RetentionDuration) -> Int64 {
            guard let latest else { return Int64.min }
            return clock.subtract(d, from: latest)
        }
        let withinThreshold = policy.within.flatMap { $0.isZero ? nil : threshold($0) }
        let windowThresholds = windows.map { w in w.duration.flatMap { $0.isZero ? nil : threshold($0) } }

        var out: [RetentionDecision<ID>] = []
        out.reserveCapacity(list.count)
        for (nr, snap) in list.enumerated() {
            var reasons: [RetentionReason] = []
            for t in policy.tags where snap.hasTags(t) {
                reasons.append(RetentionReason(kind: .tag, detail: t.joined(separator: ",")))
            }
            if let withinThreshold, snap.timeNanos > withinThreshold {
                reasons.append(RetentionReason(kind: .within, detail: policy.within!.description))
            }
            let local = clock.local(snap.timeNanos)
            for i in counters.indices where counters[i].remaining != 0 {
                let value = counters[i].period.value(local, ordinal: nr)
                let isNewPeriod = value != counters[i].last
                if isNewPeriod || (keepOldest && nr == list.count - 1) {
                    counters[i].last = value
                    if counters[i].remaining > 0 { counters[i].remaining -= 1 }
                    counters[i].kept += 1
                    reasons.append(RetentionReason(kind: counters[i].kind, ordinal: counters[i].kept, oldest: !isNewPeriod))
                }
            }
            for i in windows.indices {
                guard let t = windowThresholds[i], snap.timeNanos > t else { continue }
                let value = windows[i].period.value(local, ordinal: nr)
                if value != windows[i].last {
                    windows[i].last = value
                    reasons.append(RetentionReason(kind: windows[i].kind, detail: windows[i].duration!.description))
                }
            }
            out.append(RetentionDecision(snapshot: snap, keep: !reasons.isEmpty, reasons: reasons))
        }
        return out
    }

    // MARK: groups

    /// What snapshots are grouped by before a policy is applied to each group.
    public struct GroupBy: OptionSet, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        public static let name = GroupBy(rawValue: 1)
        public static let host = GroupBy(rawValue: 2)
        public static let tags = GroupBy(rawValue: 4)

        /// Parses `name,host,tags` (any subset, any order); the empty string is no grouping.
        public static func parse(_ text: String) -> GroupBy? {
            var g: GroupBy = []
            for part in text.split(separator: ",", omittingEmptySubsequences: true) {
                switch part.trimmingCharacters(in: .whitespaces) {
                case "name": g.insert(.name)
                case "host": g.insert(.host)
                case "tags": g.insert(.tags)
                default: return nil
                }
            }
            return g
        }

        public var description: String {
            var parts: [String] = []
            if contains(.name) { parts.append("name") }
            if contains(.host) { parts.append("host") }
            if contains(.tags) { parts.append("tags") }
            return parts.joined(separator: ",")
        }
    }

    /// The values a group shares; nil for what is not grouped by.
    public struct GroupKey: Hashable, Sendable, Comparable, CustomStringConvertible {
        public var name: String?
        public var host: String?
        /// Sorted.
        public var tags: [String]?

        public init(name: String? = nil, host: String? = nil, tags: [String]? = nil) {
            self.name = name; self.host = host; self.tags = tags
        }

        public static func < (a: GroupKey, b: GroupKey) -> Bool {
            (a.name ?? "", a.host ?? "", (a.tags ?? []).joined(separator: "\u{0}"))
                < (b.name ?? "", b.host ?? "", (b.tags ?? []).joined(separator: "\u{0}"))
        }

        public var description: String {
            var parts: [String] = []
            if let name { parts.append("name \(name.debugDescription)") }
            if let host { parts.append("host \(host.debugDescription)") }
            if let tags { parts.append("tags [\(tags.joined(separator: ","))]") }
            return parts.isEmpty ? "all snapshots" : parts.joined(separator: ", ")
        }
    }

    /// Splits snapshots into groups, in key order.
    public static func group<ID>(_ snapshots: [RetentionSnapshot<ID>], by: GroupBy) -> [(key: GroupKey, snapshots: [RetentionSnapshot<ID>])] {
        var groups: [GroupKey: [RetentionSnapshot<ID>]] = [:]
        for s in snapshots {
            let key = GroupKey(name: by.contains(.name) ? s.name : nil, host: by.contains(.host) ? s.host : nil,
                               tags: by.contains(.tags) ? s.tags.sorted() : nil)
            groups[key, default: []].append(s)
        }
        return groups.keys.sorted().map { ($0, groups[$0] ?? []) }
    }
}

// MARK: calendar arithmetic

/// A calendar period a counted rule keeps one snapshot of.
enum Period {
    case ordinal, hour, day, isoWeek, month, year

    /// A number equal for two times exactly when they are in the same period.
    func value(_ t: LocalTime, ordinal: Int) -> Int {
        switch self {
        case .ordinal: return ordinal
        case .hour: return ((t.year * 100 + t.month) * 100 + t.day) * 100 + t.hour
        case .day: return (t.year * 100 + t.month) * 100 + t.day
        case .isoWeek: let w = CivilDate.isoWeek(days: t.days); return w.year * 100 + w.week
        case .month: return t.year * 100 + t.month
        case .year: return t.year
        }
    }
}

/// Wall-clock fields of an instant in some time zone.
struct LocalTime: Equatable {
    var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int
    var nanosecond: Int
    /// Days since 1970-01-01 of the local date.
    var days: Int
}

/// Converts instants to wall-clock time and back in one time zone, the way
/// Go's `time` package does (offsets from the zone database, via Foundation).
struct LocalClock {
    let timeZone: TimeZone

    func offset(atSecond s: Int64) -> Int64 {
        Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(s))))
    }

    func local(_ nanos: Int64) -> LocalTime {
        let (secs, ns) = floorDivMod(nanos, 1_000_000_000)
        let wall = secs + offset(atSecond: secs)
        let (days, rem) = floorDivMod(wall, 86_400)
        let (y, m, d) = CivilDate.civil(days: Int(days))
        return LocalTime(year: y, month: m, day: d, hour: Int(rem / 3600), minute: Int(rem / 60 % 60), second: Int(rem % 60),
                         nanosecond: Int(ns), days: Int(days))
    }

    /// `t.AddDate(-years, -months, -days).Add(-hours)` in Go: the date fields
    /// are subtracted and normalised (day and month overflow carry), the
    /// wall-clock time of day is kept, and the hours are absolute.
    func subtract(_ d: RetentionDuration, from nanos: Int64) -> Int64 {
        let t = local(nanos)
        var year = t.year - d.years
        var month0 = t.month - 1 - d.months
        let (carry, m) = floorDivMod(Int64(month0), 12)
        year += Int(carry); month0 = Int(m)
        let days = Int64(CivilDate.days(year: year, month: month0 + 1, day: 1) + (t.day - d.days) - 1)
        let wall = days * 86_400 + Int64(t.hour * 3600 + t.minute * 60 + t.second)
        // Go's time.Date: look the offset up at the wall time read as UTC; if
        // the resulting instant lies under another offset, use that one.
        var off = offset(atSecond: wall)
        let guess = wall - off
        let atGuess = offset(atSecond: guess)
        if atGuess != off { off = atGuess }
        let (sat, overflow) = (wall - off).multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return wall < 0 ? Int64.min : Int64.max }
        // Snapshot times span all of Int64: the threshold saturates instead of trapping.
        let (withNanos, o1) = sat.addingReportingOverflow(Int64(t.nanosecond))
        let (hours, o2) = Int64(d.hours).multipliedReportingOverflow(by: 3_600_000_000_000)
        let (result, o3) = withNanos.subtractingReportingOverflow(hours)
        if o1 || o2 || o3 { return o1 || (o3 && hours < 0) ? Int64.max : Int64.min }
        return result
    }
}

func floorDivMod(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
    var q = a / b, r = a % b
    if r < 0 { q -= 1; r += b }
    return (q, r)
}

/// Proleptic Gregorian dates as day counts from 1970-01-01 (Howard Hinnant's algorithms).
enum CivilDate {
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(days z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// ISO 8601 week: weeks start on Monday, and week 1 is the one holding the year's first Thursday.
    static func isoWeek(days: Int) -> (year: Int, week: Int) {
        let weekday = ((days + 3) % 7 + 7) % 7          // Monday = 0 (1970-01-01 was a Thursday)
        let thursday = days - weekday + 3
        let year = civil(days: thursday).year
        return (year, (thursday - Self.days(year: year, month: 1, day: 1)) / 7 + 1)
    }
}

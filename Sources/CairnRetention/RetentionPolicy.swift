/// Which snapshots `cairn forget` keeps: the policy's parts, durations like
/// `2y5m7d3h`, and the snapshot facts a policy looks at. The arithmetic is in
/// `Retention.apply`; it follows restic's `forget` (see Docs/retention.md).

/// A calendar duration as restic's `--keep-within` takes it: years, months,
/// days and hours, subtracted from the newest snapshot's local time the way
/// Go's `time.AddDate` does (so 31 March minus one month is 3 March, not
/// 28 February), then the hours as an absolute duration.
public struct RetentionDuration: Hashable, Sendable, CustomStringConvertible {
    public var years: Int
    public var months: Int
    public var days: Int
    public var hours: Int

    public init(years: Int = 0, months: Int = 0, days: Int = 0, hours: Int = 0) {
        self.years = years; self.months = months; self.days = days; self.hours = hours
    }

    public var isZero: Bool { years == 0 && months == 0 && days == 0 && hours == 0 }

    /// The largest value of one unit: far beyond any policy, and small enough
    /// that calendar arithmetic on it cannot overflow.
    public static let maxUnits = 1_000_000

    /// Parses `NyNmNdNh`-style text: numbers each followed by one of y, m, d, h,
    /// in any order, repeated units adding up ("1d12h", "36h", "1y"). Nil for
    /// empty text, a number without a unit, an unknown unit, or more than
    /// `maxUnits` of one unit.
    public static func parse(_ text: String) -> RetentionDuration? {
        var d = RetentionDuration()
        var digits = ""
        var sawAny = false
        for c in text {
            if c.isASCII, c.isNumber { digits.append(c); continue }
            guard !digits.isEmpty, let n = Int(digits), n <= maxUnits else { return nil }
            switch c {
            case "y": d.years += n
            case "m": d.months += n
            case "d": d.days += n
            case "h": d.hours += n
            default: return nil
            }
            guard max(d.years, d.months, d.days, d.hours) <= maxUnits else { return nil }
            digits = ""
            sawAny = true
        }
        guard digits.isEmpty, sawAny else { return nil }
        return d
    }

    public var description: String {
        var s = ""
        if years != 0 { s += "\(years)y" }
        if months != 0 { s += "\(months)m" }
        if days != 0 { s += "\(days)d" }
        if hours != 0 { s += "\(hours)h" }
        return s.isEmpty ? "0h" : s
    }
}

/// A retention policy. Counts are "keep the newest snapshot of each of the
/// last N calendar periods that have snapshots"; `unlimited` (-1) keeps one
/// for every period. A snapshot is kept when any part of the policy keeps it.
public struct RetentionPolicy: Hashable, Sendable {
    public static let unlimited = -1

    public var last = 0
    public var hourly = 0
    public var daily = 0
    public var weekly = 0
    public var monthly = 0
    public var yearly = 0
    /// Keep every snapshot newer than the newest one minus this.
    public var within: RetentionDuration? = nil
    /// Keep the newest snapshot of each hour/day/ISO week/month/year newer than the newest one minus this.
    public var withinHourly: RetentionDuration? = nil
    public var withinDaily: RetentionDuration? = nil
    public var withinWeekly: RetentionDuration? = nil
    public var withinMonthly: RetentionDuration? = nil
    public var withinYearly: RetentionDuration? = nil
    /// Keep snapshots having every tag of any one list. A list holding the
    /// empty tag matches snapshots without tags.
    public var tags: [[String]] = []

    public init() {}

    /// True when nothing is asked for: such a policy removes nothing in
    /// `apply` (and `cairn forget` refuses it unless told to remove everything).
    public var isEmpty: Bool {
        last == 0 && hourly == 0 && daily == 0 && weekly == 0 && monthly == 0 && yearly == 0 && tags.isEmpty
            && [within, withinHourly, withinDaily, withinWeekly, withinMonthly, withinYearly].allSatisfy { $0?.isZero ?? true }
    }

    /// Parses a count option: a number ≥ 0 or `unlimited`.
    public static func parseCount(_ text: String) -> Int? {
        if text == "unlimited" || text == "-1" { return unlimited }
        guard let n = Int(text), n >= 0 else { return nil }
        return n
    }

    /// "keep 7 daily, 4 weekly snapshots and all within 2d": for the report's first line.
    public var description: String {
        var parts: [String] = []
        for (n, what) in [(last, "last"), (hourly, "hourly"), (daily, "daily"), (weekly, "weekly"), (monthly, "monthly"), (yearly, "yearly")] {
            if n > 0 { parts.append("\(n) \(what)") } else if n == Self.unlimited { parts.append("all \(what)") }
        }
        var s = parts.isEmpty ? "" : parts.joined(separator: ", ") + " snapshots"
        for (d, what) in [(withinHourly, "hourly"), (withinDaily, "daily"), (withinWeekly, "weekly"), (withinMonthly, "monthly"), (withinYearly, "yearly")] {
            if let d, !d.isZero { s += (s.isEmpty ? "" : ", ") + "\(what) snapshots within \(d)" }
        }
        if !tags.isEmpty {
            s += (s.isEmpty ? "" : " and ") + "all snapshots tagged " + tags.map { $0.joined(separator: ",") }.joined(separator: " or ")
        }
        if let within, !within.isZero { s += (s.isEmpty ? "" : " and ") + "all snapshots within \(within) of the newest" }
        return s.isEmpty ? "empty policy" : "keep " + s
    }
}

/// The facts of a snapshot that retention looks at. `ID` is what names a snapshot (Cairn's
/// `SnapshotID`; a string in the oracle tests against restic); ties in time are broken by it.
public struct RetentionSnapshot<ID: Hashable & Comparable & Sendable>: Hashable, Sendable {
    public var id: ID
    /// Nanoseconds since the Unix epoch, UTC.
    public var timeNanos: Int64
    public var name: String
    public var host: String
    public var tags: [String]

    public init(id: ID, timeNanos: Int64, name: String = "", host: String = "", tags: [String] = []) {
        self.id = id; self.timeNanos = timeNanos; self.name = name; self.host = host; self.tags = tags
    }

    /// restic's rule: every tag of the list is present; the empty tag
    /// matches a snapshot that has no tags at all.
    public func hasTags(_ list: [String]) -> Bool {
        for t in list {
            if t.isEmpty && tags.isEmpty { return true }
            if !tags.contains(t) { return false }
        }
        return true
    }
}

/// Why a snapshot is kept.
public struct RetentionReason: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        case last, hourly, daily, weekly, monthly, yearly
        case within
        case withinHourly = "hourly within", withinDaily = "daily within", withinWeekly = "weekly within"
        case withinMonthly = "monthly within", withinYearly = "yearly within"
        case tag
        case emptyPolicy = "policy is empty"
    }

    public var kind: Kind
    /// For counted kinds: this is the n-th snapshot that kind kept (1 = newest).
    public var ordinal: Int? = nil
    /// Kept only because it is the oldest snapshot of its group and the count
    /// was not used up (restic ≥ 0.16 keeps it; older restic removed it).
    public var oldest = false
    /// The duration of a within rule, or the tag list.
    public var detail: String? = nil

    public init(kind: Kind, ordinal: Int? = nil, oldest: Bool = false, detail: String? = nil) {
        self.kind = kind; self.ordinal = ordinal; self.oldest = oldest; self.detail = detail
    }

    /// `daily 3`, `oldest monthly 2`, `within 7d`, `daily within 30d`, `tag db,nightly`.
    public var description: String {
        var s = (oldest ? "oldest " : "") + kind.rawValue
        if let ordinal { s += " \(ordinal)" }
        if let detail { s += " \(detail)" }
        return s
    }
}

/// The verdict on one snapshot.
public struct RetentionDecision<ID: Hashable & Comparable & Sendable>: Hashable, Sendable {
    public var snapshot: RetentionSnapshot<ID>
    public var keep: Bool
    /// Empty when removed.
    public var reasons: [RetentionReason]

    public init(snapshot: RetentionSnapshot<ID>, keep: Bool, reasons: [RetentionReason]) {
        self.snapshot = snapshot; self.keep = keep; self.reasons = reasons
    }
}

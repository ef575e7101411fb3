import Foundation

/// When a source is due: `daily 02:00`, `every 1h`, `weekly sun 02:00`,
/// `monthly 1 03:00` (local time of the machine running `cairn run`).
///
/// A source is due when its newest snapshot is older than the schedule's most
/// recent occurrence, so a missed run (machine off) is caught up by the next one.
public enum Schedule: Sendable, Equatable, CustomStringConvertible {
    /// Every `seconds`, in slots aligned to local midnight (divides an hour or a day).
    case every(seconds: Int64)
    case daily(hour: Int, minute: Int)
    /// `weekday`: 1 = Sunday ... 7 = Saturday (Foundation's numbering).
    case weekly(weekday: Int, hour: Int, minute: Int)
    /// `day`: 1...28, so every month has it.
    case monthly(day: Int, hour: Int, minute: Int)

    static let weekdays = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    /// Parses a schedule; the error says what is wrong.
    public static func parse(_ text: String) -> Result<Schedule, ScheduleError> {
        let words = text.split(separator: " ", omittingEmptySubsequences: true).map { $0.lowercased() }
        func time(_ w: String) -> (Int, Int)? {
            let p = w.split(separator: ":")
            guard p.count == 2, p[0].count <= 2, p[1].count == 2, let h = Int(p[0]), let m = Int(p[1]),
                  (0..<24).contains(h), (0..<60).contains(m) else { return nil }
            return (h, m)
        }
        switch words.first {
        case "every"?:
            guard words.count == 2, let s = PlanDuration.seconds(words[1]) else {
                return .failure(.init("\"every\" takes one duration, like \"every 1h\" or \"every 15m\""))
            }
            guard s >= 60, (s < 3600 && 3600 % s == 0) || (s % 3600 == 0 && 86_400 % s == 0) else {
                return .failure(.init("\"every \(words[1])\" must divide an hour or a day (like 5m, 15m, 1h, 6h, 1d)"))
            }
            return .success(.every(seconds: s))
        case "daily"?:
            guard words.count == 2, let (h, m) = time(words[1]) else { return .failure(.init("\"daily\" takes a time, like \"daily 02:00\"")) }
            return .success(.daily(hour: h, minute: m))
        case "weekly"?:
            guard words.count == 3, let d = weekdays.firstIndex(of: String(words[1].prefix(3))), words[1].count >= 3,
                  let (h, m) = time(words[2]) else {
                return .failure(.init("\"weekly\" takes a day and a time, like \"weekly sun 02:00\""))
            }
            return .success(.weekly(weekday: d + 1, hour: h, minute: m))
        case "monthly"?:
            guard words.count == 3, let day = Int(words[1]), let (h, m) = time(words[2]) else {
                return .failure(.init("\"monthly\" takes a day of the month and a time, like \"monthly 1 03:00\""))
            }
            guard (1...28).contains(day) else { return .failure(.init("the day of the month must be 1-28 (every month has it)")) }
            return .success(.monthly(day: day, hour: h, minute: m))
        default:
            return .failure(.init("\(text.debugDescription) is not a schedule (like \"daily 02:00\", \"every 1h\", \"weekly sun 02:00\", \"monthly 1 03:00\")"))
        }
    }

    public var description: String {
        func t(_ h: Int, _ m: Int) -> String { (h < 10 ? "0" : "") + "\(h):" + (m < 10 ? "0" : "") + "\(m)" }
        switch self {
        case .every(let s): return "every \(PlanDuration.format(s))"
        case .daily(let h, let m): return "daily \(t(h, m))"
        case .weekly(let d, let h, let m): return "weekly \(Self.weekdays[d - 1]) \(t(h, m))"
        case .monthly(let day, let h, let m): return "monthly \(day) \(t(h, m))"
        }
    }

    /// The systemd `OnCalendar=` expression for this schedule.
    public var onCalendar: String {
        func t(_ h: Int, _ m: Int) -> String { (h < 10 ? "0" : "") + "\(h):" + (m < 10 ? "0" : "") + "\(m):00" }
        switch self {
        case .every(let s) where s < 3600: return "*-*-* *:00/\(s / 60):00"
        case .every(let s) where s == 86_400: return "*-*-* 00:00:00"
        case .every(let s): return "*-*-* 00/\(s / 3600):00:00"
        case .daily(let h, let m): return "*-*-* \(t(h, m))"
        case .weekly(let d, let h, let m): return "\(Self.weekdays[d - 1].capitalized) *-*-* \(t(h, m))"
        case .monthly(let day, let h, let m): return "*-*-\(day < 10 ? "0" : "")\(day) \(t(h, m))"
        }
    }

    /// The most recent occurrence at or before `now` in `calendar`'s time zone.
    public func lastOccurrence(atOrBefore now: Date, calendar: Calendar) -> Date {
        let startOfDay = calendar.startOfDay(for: now)
        func at(_ day: Date, _ h: Int, _ m: Int) -> Date {
            calendar.date(bySettingHour: h, minute: m, second: 0, of: day) ?? day
        }
        switch self {
        case .every(let s):
            let elapsed = Int64(now.timeIntervalSince(startOfDay))
            return startOfDay.addingTimeInterval(Double(elapsed - elapsed % s))
        case .daily(let h, let m):
            let today = at(startOfDay, h, m)
            if today <= now { return today }
            return at(calendar.date(byAdding: .day, value: -1, to: startOfDay) ?? startOfDay, h, m)
        case .weekly(let d, let h, let m):
            for back in 0...7 {
                guard let day = calendar.date(byAdding: .day, value: -back, to: startOfDay) else { continue }
                if calendar.component(.weekday, from: day) == d {
                    let t = at(day, h, m)
                    if t <= now { return t }
                }
            }
            return now
        case .monthly(let dayOfMonth, let h, let m):
            var comps = calendar.dateComponents([.year, .month], from: now)
            for _ in 0..<2 {
                comps.day = dayOfMonth; comps.hour = h; comps.minute = m; comps.second = 0
                if let t = calendar.date(from: comps), t <= now { return t }
                if let first = calendar.date(from: DateComponents(year: comps.year, month: comps.month, day: 1)),
                   let previous = calendar.date(byAdding: .month, value: -1, to: first) {
                    comps = calendar.dateComponents([.year, .month], from: previous)
                }
            }
            return now
        }
    }

    /// Whether a source whose newest snapshot is at `newest` (nil: none yet) is due at `now`.
    public func isDue(newest: Date?, now: Date, calendar: Calendar) -> Bool {
        guard let newest else { return true }
        return newest < lastOccurrence(atOrBefore: now, calendar: calendar)
    }
}

/// Why a schedule string was rejected.
public struct ScheduleError: Error, Sendable, Equatable {
    public let message: String
    init(_ m: String) { message = m }
}

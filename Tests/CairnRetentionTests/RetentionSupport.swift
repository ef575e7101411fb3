@testable import CairnRetention
import Foundation
import XCTest

/// "2024-01-01 10:00[:ss]" read as wall-clock time in `zone` (UTC by default), to nanoseconds.
func at(_ text: String, _ zone: String = "UTC") -> Int64 {
    let parts = text.split(whereSeparator: { $0 == " " || $0 == "-" || $0 == ":" }).map { Int($0)! }
    let days = CivilDate.days(year: parts[0], month: parts[1], day: parts[2])
    let wall = Int64(days) * 86_400 + Int64(parts[3] * 3600 + parts[4] * 60 + (parts.count > 5 ? parts[5] : 0))
    let tz = TimeZone(identifier: zone)!
    // Wall time → instant: try the offset at the wall time, then the one at the guess.
    var off = Int64(tz.secondsFromGMT(for: Date(timeIntervalSince1970: Double(wall))))
    off = Int64(tz.secondsFromGMT(for: Date(timeIntervalSince1970: Double(wall - off))))
    return (wall - off) * 1_000_000_000
}

/// The policy restic's forget flags describe (the oracle records restic's arguments).
func policy(fromResticArguments args: [String]) throws -> RetentionPolicy {
    var p = RetentionPolicy()
    var i = 0
    func duration(_ s: String) throws -> RetentionDuration { try XCTUnwrap(RetentionDuration.parse(s), s) }
    while i < args.count {
        let flag = args[i], value = args[i + 1]
        i += 2
        switch flag {
        case "--keep-last": p.last = try XCTUnwrap(RetentionPolicy.parseCount(value))
        case "--keep-hourly": p.hourly = try XCTUnwrap(RetentionPolicy.parseCount(value))
        case "--keep-daily": p.daily = try XCTUnwrap(RetentionPolicy.parseCount(value))
        case "--keep-weekly": p.weekly = try XCTUnwrap(RetentionPolicy.parseCount(value))
        case "--keep-monthly": p.monthly = try XCTUnwrap(RetentionPolicy.parseCount(value))
        case "--keep-yearly": p.yearly = try XCTUnwrap(RetentionPolicy.parseCount(value))
        case "--keep-within": p.within = try duration(value)
        case "--keep-within-hourly": p.withinHourly = try duration(value)
        case "--keep-within-daily": p.withinDaily = try duration(value)
        case "--keep-within-weekly": p.withinWeekly = try duration(value)
        case "--keep-within-monthly": p.withinMonthly = try duration(value)
        case "--keep-within-yearly": p.withinYearly = try duration(value)
        case "--keep-tag": p.tags.append(value.split(separator: ",", omittingEmptySubsequences: false).map(String.init))
        default: throw XCTSkip("unknown flag \(flag)")
        }
    }
    return p
}

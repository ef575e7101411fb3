import CairnTestSupport
import Foundation
import XCTest

/// A daily RDB series with ~2 % key churn (1 % rewritten, 0.5 % deleted, 0.5 % new),
/// backed up with three chunker profiles into three repositories: the measured
/// dedup behind the `rdb` profile default. Prints its table.
final class RedisSeriesTests: XCTestCase {
    func testDailySeriesDedupByProfile() throws {
        let tmp = try makeTempDir("redis-series")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let server = try RedisServer(dir: tmp.appendingPathComponent("live"))
        defer { server.stop() }
        let c = try server.connect()
        var data = RedisDataset(seed: 2026)
        try data.populate(c, count: 40_000)
        let profiles = ["rdb", "dump", "file"]
        var runners: [String: CairnRunner] = [:]
        for p in profiles {
            runners[p] = try newRepository("redis-series-\(p)")
        }
        let dump = server.dir.appendingPathComponent("dump.rdb")
        var rows: [String: [(logical: Int, new: Int, stored: Int)]] = [:]
        let days = 5
        for day in 0..<days {
            if day > 0 { try data.churn(c) }
            _ = try c.command(["SAVE"])
            for p in profiles {
                let j = try runners[p]!.ok(["redis", "backup", "--file", dump.path, "--url", server.url,
                                            "--chunk-profile", p, "--json"]).json()
                rows[p, default: []].append((j["logical_bytes"] as? Int ?? 0, j["new_bytes"] as? Int ?? 0, j["stored_bytes"] as? Int ?? 0))
            }
        }
        var report = "RDB daily series, \(days) days, ~2 % churn, RDB ≈ \(rows["rdb"]![0].logical / 1000) kB:\n"
        var reuse: [String: Double] = [:]
        for p in profiles {
            let later = rows[p]!.dropFirst()
            let logical = later.map(\.logical).reduce(0, +), new = later.map(\.new).reduce(0, +), stored = later.map(\.stored).reduce(0, +)
            reuse[p] = 1 - Double(new) / Double(logical)
            let all = rows[p]!
            let ratio = Double(all.map(\.logical).reduce(0, +)) / Double(all.map(\.stored).reduce(0, +))
            report += String(format: "  %-5@ day 0 stored %7d B; days 1-%d: reused %5.1f %%, new %7d B/day, stored %7d B/day; whole series logical/stored %.1fx\n",
                             p as NSString, all[0].stored, days - 1, reuse[p]! * 100, new / (days - 1), stored / (days - 1), ratio)
        }
        print(report)
        try? report.write(toFile: ProcessInfo.processInfo.environment["CAIRN_REDIS_SERIES_REPORT"] ?? "/dev/null", atomically: false, encoding: .utf8)
        // Scattered churn: smaller chunks reuse more exactly (about (1 - 0.02)^(keys per chunk)).
        XCTAssertGreaterThan(reuse["rdb"]!, reuse["dump"]!)
        XCTAssertGreaterThan(reuse["dump"]!, reuse["file"]!)
        XCTAssertGreaterThan(reuse["rdb"]!, 0.15)
        // Delta compression (on for the rdb and dump profiles) stores a small fraction of a day.
        let perDay = { (p: String) in rows[p]!.dropFirst().map(\.stored).reduce(0, +) / (days - 1) }
        XCTAssertLessThan(perDay("rdb") * 4, perDay("file"))
    }
}

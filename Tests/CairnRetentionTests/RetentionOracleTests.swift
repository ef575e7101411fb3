@testable import CairnRetention
import Foundation
import Synchronization
import XCTest

/// Cairn's selection against restic's: the decisions recorded from restic by
/// `Oracle/make_restic_oracle.py` (always), and a live run of `restic` on a
/// fresh random set of times when restic is installed.
final class RetentionOracleTests: XCTestCase {
    struct Recorded: Decodable {
        struct Snap: Decodable { var time_ns: Int64; var tags: [String] }
        struct Case: Decodable { var args: [String]; var keep: [Int64] }
        var restic_version: String
        var timezone: String
        var snapshots: [Snap]
        var cases: [Case]
    }

    static let oracleDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Oracle")

    /// restic 0.16 started keeping the oldest snapshot while a count is left.
    static func keepsOldest(resticVersion v: String) -> Bool {
        let parts = v.split(separator: ".").compactMap { Int($0) }
        return parts.count >= 2 && (parts[0], parts[1]) >= (0, 16)
    }

    func testRecordedResticDecisions() throws {
        let data = try Data(contentsOf: Self.oracleDirectory.appendingPathComponent("restic-forget.json"))
        let oracle = try JSONDecoder().decode(Recorded.self, from: data)
        let zone = try XCTUnwrap(TimeZone(identifier: oracle.timezone))
        let snaps = oracle.snapshots.enumerated().map { RetentionSnapshot(id: "s\($0.offset)", timeNanos: $0.element.time_ns, tags: $0.element.tags) }
        XCTAssertGreaterThan(snaps.count, 50)
        XCTAssertGreaterThan(oracle.cases.count, 30)
        let legacy = !Self.keepsOldest(resticVersion: oracle.restic_version)
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        for c in oracle.cases {
            let p = try policy(fromResticArguments: c.args)
            let decisions = Retention.apply(p, to: snaps, now: now, timeZone: zone, keepOldest: !legacy)
            let kept = decisions.filter(\.keep).map(\.snapshot.timeNanos).sorted()
            XCTAssertEqual(kept, c.keep, "restic \(oracle.restic_version) \(c.args.joined(separator: " "))")
            if legacy {
                // Today's rule differs from restic 0.14/0.15 at most by keeping the group's oldest snapshot.
                let modern = Set(Retention.apply(p, to: snaps, now: now, timeZone: zone).filter(\.keep).map(\.snapshot.timeNanos))
                XCTAssertTrue(modern.subtracting(kept).isSubset(of: [snaps.map(\.timeNanos).min()!]), c.args.joined(separator: " "))
            }
        }
    }

    func testLiveRestic() throws {
        guard let restic = Self.findRestic() else { throw XCTSkip("restic is not installed; the recorded oracle still ran") }
        let version = try run(restic, ["version"], env: [:]).split(separator: " ").dropFirst().first.map(String.init) ?? "0"
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-restic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        let zoneName = "America/New_York"
        let env = ["TZ": zoneName, "RESTIC_PASSWORD": "oracle", "RESTIC_REPOSITORY": tmp.appendingPathComponent("repo").path,
                   "RESTIC_CACHE_DIR": tmp.appendingPathComponent("cache").path]
        _ = try run(restic, ["init"], env: env)
        let file = tmp.appendingPathComponent("f")
        try Data("live\n".utf8).write(to: file)
        // A fresh random set every run: times within ~10 weeks, some in the same hour or day.
        var rng = SystemRandomNumberGenerator()
        var stamps = Set<String>()
        let base = Int64(Date().timeIntervalSince1970) - 80 * 86_400
        while stamps.count < 10 {
            let t = base + Int64.random(in: 0..<(70 * 86_400), using: &rng)
            let spread = Int64.random(in: 0..<3, using: &rng) == 0 ? Int64.random(in: 0..<3600, using: &rng) : 0
            for s in [t, t + spread] where stamps.count < 10 {
                let f = DateFormatter(); f.dateFormat = "yyyy-MM-dd HH:mm:ss"; f.timeZone = TimeZone(identifier: zoneName)
                f.locale = Locale(identifier: "en_US_POSIX")
                stamps.insert(f.string(from: Date(timeIntervalSince1970: Double(s))))
            }
        }
        // Two backups at a time (restic spends most of each call in its key derivation).
        let jobs = stamps.sorted().map { s -> [String] in
            var args = ["backup", "-q", "--host", "live", "--time", s, file.path]
            if Bool.random(using: &rng) { args += ["--tag", "t"] }
            return args
        }
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { lane in
            for args in jobs.enumerated().filter({ $0.offset % 2 == lane }).map(\.element) {
                do { _ = try runProcess(restic, args, env: env) } catch { failures.withLock { $0.append("\(error)") } }
            }
        }
        XCTAssertEqual(failures.withLock { $0 }, [])
        struct Snap: Decodable { var id: String; var time: String; var tags: [String]? }
        let listed = try JSONDecoder().decode([Snap].self, from: Data(try run(restic, ["snapshots", "--json"], env: env).utf8))
        let snaps = try listed.map { RetentionSnapshot(id: $0.id, timeNanos: try parseRFC3339($0.time), tags: $0.tags ?? []) }
        let policies: [[String]] = [
            ["--keep-last", "\(Int.random(in: 1...5))"], ["--keep-hourly", "\(Int.random(in: 1...8))"],
            ["--keep-daily", "\(Int.random(in: 1...8))", "--keep-weekly", "\(Int.random(in: 1...4))"],
            ["--keep-within", "\(Int.random(in: 1...40))d\(Int.random(in: 0...23))h"],
            ["--keep-within-daily", "\(Int.random(in: 1...30))d", "--keep-tag", "t"],
        ]
        let zone = TimeZone(identifier: zoneName)!
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        struct Group: Decodable { struct S: Decodable { var id: String }; var keep: [S]? }
        for args in policies {
            let out = try run(restic, ["forget", "--dry-run", "--json", "--group-by", ""] + args, env: env)
            let theirs = Set(try JSONDecoder().decode([Group].self, from: Data(out.utf8)).flatMap { $0.keep ?? [] }.map(\.id))
            let ours = Set(Retention.apply(try policy(fromResticArguments: args), to: snaps, now: now, timeZone: zone,
                                           keepOldest: Self.keepsOldest(resticVersion: version)).filter(\.keep).map(\.snapshot.id))
            XCTAssertEqual(ours, theirs, "restic \(version) \(args.joined(separator: " ")) on \(stamps.sorted())")
        }
    }

    static func findRestic() -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let p = "\(dir)/restic"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    func run(_ exe: String, _ args: [String], env: [String: String]) throws -> String { try runProcess(exe, args, env: env) }
}

func runProcess(_ exe: String, _ args: [String], env: [String: String]) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = args
    p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out; p.standardError = err
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else {
        throw NSError(domain: "restic", code: Int(p.terminationStatus),
                      userInfo: [NSLocalizedDescriptionKey: "restic \(args.joined(separator: " ")): \(String(decoding: errData, as: UTF8.self))"])
    }
    return String(decoding: data, as: UTF8.self)
}

/// RFC 3339 with an offset and up to nine fractional digits, to nanoseconds.
func parseRFC3339(_ s: String) throws -> Int64 {
    var text = s
    var frac: Int64 = 0
    if let dot = text.firstIndex(of: ".") {
        let rest = text[text.index(after: dot)...]
        let digits = rest.prefix { $0.isNumber }
        frac = Int64((String(digits) + "000000000").prefix(9))!
        text = String(text[..<dot]) + String(rest.dropFirst(digits.count))
    }
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime]
    let d = try XCTUnwrap(f.date(from: text), s)
    return Int64(d.timeIntervalSince1970.rounded()) * 1_000_000_000 + frac
}

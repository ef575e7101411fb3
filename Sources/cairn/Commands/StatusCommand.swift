import ArgumentParser
import CairnOps
import CairnPlan
import Foundation

/// `cairn status`: every objective of the plan, measured; exit 5 when one is breached.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Measure the plan's objectives: snapshot age vs RPO, last drill vs RTO, last scrub, size (exit 0 all hold, 5 breached).")

    @OptionGroup var planOptions: PlanOptions

    @Flag(help: "Print one JSON document (times in RFC 3339 UTC).")
    var json = false

    @Option(help: "Write Prometheus textfile-collector metrics to this file (names in Docs/operations.md).")
    var metrics: String?

    func run() async throws {
        let plan = try planOptions.load()
        let ctx = OpsContext(plan: plan)
        let report = StatusEvaluator.evaluate(plan: plan, facts: await ctx.facts(), now: Date().timeIntervalSince1970,
                                              archivers: sourceProblems(plan, ctx))
        if let metrics { try PrometheusText.write(PrometheusMetrics.render(report), to: metrics) }
        if json {
            Terminal.json(StatusJSON(report))
        } else {
            print(report)
        }
        // A result, not an error: the report says which objective is breached.
        if report.breached { throw CommandFailure(ExitStatus.breach) }
    }

    /// What each source's adapter finds breached beyond RPO and RTO (the WAL archive's: what
    /// pg_stat_archiver says), with the repository's cache to remember what it saw.
    private func sourceProblems(_ plan: Plan, _ ctx: OpsContext) -> [String: String] {
        var out: [String: String] = [:]
        for s in plan.sources {
            guard let repo = plan.repository(named: s.repository) else { continue }
            let state = ((try? ctx.cacheBase(repo)) ?? NSTemporaryDirectory()) + "/status"
            if let problem = SourceRegistry.adapter(for: s.kind).statusProblem(s, in: plan, stateDirectory: state) { out[s.name] = problem }
        }
        return out
    }

    static func describe(_ p: ProtectionFacts) -> String {
        if let e = p.error { return "not measured (\(e))" }
        var parts = [p.mode.map { "Object Lock \($0), \(p.lockDays ?? 0) days" } ?? "no Object Lock"]
        if let v = p.versioning { parts.append("versioning \(v == "Enabled" ? "on" : v.lowercased())") }
        if let until = p.newestLockedUntil {
            parts.append(until == 0 ? "newest snapshot has objects WITHOUT a lock" : "newest snapshot locked until \(Terminal.rfc3339(seconds: Double(until)))")
        }
        return parts.joined(separator: "; ")
    }

    private func print(_ r: StatusReport) {
        // Columns as wide as the longest name (at least the usual widths).
        let nameW = max(20, r.sources.map(\.name.count).max() ?? 0), kindW = max(14, r.sources.map(\.kind.count).max() ?? 0)
        let repoW = max(12, r.sources.map(\.repository.count).max() ?? 0)
        Terminal.out("\("SOURCE".padding(nameW)) \("KIND".padding(kindW)) \("REPOSITORY".padding(repoW)) NEWEST                AGE       RPO      LAST DRILL    RTO      STATE")
        for s in r.sources {
            let newest = s.newest.map { Terminal.rfc3339(seconds: $0) } ?? "never"
            let age = s.ageSeconds.map { PlanDuration.format(Int64($0)) } ?? "-"
            let drill = s.lastDrill.map { ($0.ok ? "" : "FAILED ") + PlanDuration.format(seconds: $0.seconds) } ?? "none"
            let state = s.problems.isEmpty ? "ok" : "BREACHED"
            Terminal.out("\(s.name.padding(nameW)) \(s.kind.padding(kindW)) \(s.repository.padding(repoW)) \(newest.padding(21)) \(age.padding(9)) \((s.rpoObjective.map(PlanDuration.format) ?? "-").padding(8)) \(drill.padding(13)) \((s.rtoObjective.map(PlanDuration.format) ?? "-").padding(8)) \(state)")
        }
        for x in r.repositories {
            if x.reachable {
                let scrub = x.lastScrub.map { ($0.clean ? "clean" : ($0.ran ? "DAMAGE" : "FAILED")) + " " + Terminal.rfc3339(seconds: $0.time) } ?? "none recorded"
                Terminal.out("repository \(x.name): \(Terminal.bytes(x.storedBytes)) stored, \(x.snapshotCount) snapshots, +\(Terminal.bytes(UInt64(x.dailyGrowthBytes)))/day (7-day average); last scrub: \(scrub)")
                if let p = x.protection { Terminal.out("repository \(x.name): protection: \(Self.describe(p))") }
            } else {
                Terminal.out("repository \(x.name): UNREACHABLE")
            }
        }
        let problems = r.sources.flatMap { s in s.problems.map { "source \(s.name): \($0)" } } + r.repositories.flatMap { x in x.problems.map { "repository \(x.name): \($0)" } }
        for s in r.sources {
            if s.newestSkipped > 0 { Terminal.out("NOTE: source \(s.name): the newest snapshot left out \(s.newestSkipped) unreadable item(s) (see that backup's warnings)") }
            if s.incompleteSnapshots > 0 { Terminal.out("NOTE: source \(s.name): \(s.incompleteSnapshots) snapshot(s) missing a whole source are not counted") }
        }
        for p in problems { Terminal.out("BREACH: \(p)") }
        Terminal.out(problems.isEmpty ? "all objectives hold" : "\(problems.count) objective(s) breached (exit \(ExitStatus.breach))")
    }
}

struct StatusJSON: Encodable {
    struct Drill: Encodable { let ok: Bool, seconds: Double, time: String, snapshot: String, message: String, phases: [String: Double] }
    struct Source: Encodable {
        let name: String, kind: String, repository: String, snapshot_name: String, newest: String?, age_seconds: Double?
        let rpo_seconds: Int64?, rpo_breached: Bool, last_drill: Drill?, rto_seconds: Int64?, rto_breached: Bool, snapshots: Int, problems: [String]
        let incomplete_snapshots: Int, newest_skipped: Int
    }
    struct Scrub: Encodable { let clean: Bool, ran: Bool, time: String, message: String }
    struct Repo: Encodable {
        let name: String, reachable: Bool, error: String?, stored_bytes: UInt64, unique_bytes: UInt64, snapshots: Int
        let daily_growth_bytes: Double, last_scrub: Scrub?, problems: [String], protection: Protection?
    }
    struct Protection: Encodable {
        let object_lock_mode: String?, lock_days: Int?, versioning: String?, newest_snapshot: String?, newest_snapshot_locked_until: String?, error: String?
    }
    let breached: Bool, time: String, sources: [Source], repositories: [Repo]

    init(_ r: StatusReport) {
        func t(_ s: Double) -> String { Terminal.rfc3339(seconds: s) }
        breached = r.breached; time = t(r.time)
        sources = r.sources.map { s in
            Source(name: s.name, kind: s.kind, repository: s.repository, snapshot_name: s.snapshotName, newest: s.newest.map(t),
                   age_seconds: s.ageSeconds, rpo_seconds: s.rpoObjective, rpo_breached: s.rpoBreached,
                   last_drill: s.lastDrill.map { d in Drill(ok: d.ok, seconds: d.seconds, time: t(d.time), snapshot: d.snapshot, message: d.message,
                                                            phases: Dictionary(d.phases.map { ($0.name, $0.seconds) }, uniquingKeysWith: +)) },
                   rto_seconds: s.rtoObjective, rto_breached: s.rtoBreached, snapshots: s.snapshotCount, problems: s.problems,
                   incomplete_snapshots: s.incompleteSnapshots, newest_skipped: s.newestSkipped)
        }
        repositories = r.repositories.map { x in
            Repo(name: x.name, reachable: x.reachable, error: x.error, stored_bytes: x.storedBytes, unique_bytes: x.uniqueBytes,
                 snapshots: x.snapshotCount, daily_growth_bytes: x.dailyGrowthBytes,
                 last_scrub: x.lastScrub.map { Scrub(clean: $0.clean, ran: $0.ran, time: t($0.time), message: $0.message) }, problems: x.problems,
                 protection: x.protection.map { p in
                     Protection(object_lock_mode: p.mode, lock_days: p.lockDays, versioning: p.versioning, newest_snapshot: p.newestSnapshot,
                                newest_snapshot_locked_until: p.newestLockedUntil.map { t(Double($0)) }, error: p.error)
                 })
        }
    }
}

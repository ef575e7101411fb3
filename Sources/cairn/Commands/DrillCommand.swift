import ArgumentParser
import CairnOps
import CairnPlan
import Foundation

/// `cairn drill`: restore the latest snapshot of each source into a scratch
/// area and prove it usable (CairnOps' `PlanDrill`, each kind by its adapter in
/// `SourceRegistry`); the time it took is the measured RTO, recorded in the
/// source's repository for `status` and `report`.
struct DrillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill",
        abstract: "Restore each source's latest snapshot into a scratch area, prove it usable (servers, checks), record the RTO (exit 0 all passed, 1 not).")

    @OptionGroup var planOptions: PlanOptions

    @Option(name: .customLong("source"), help: "Drill this source only (repeatable; default: every source).")
    var sources: [String] = []

    @Flag(help: "Print one JSON document (times in RFC 3339 UTC).")
    var json = false

    @Flag(help: "Do not record the results in the repositories.")
    var noRecord = false

    func run() async throws {
        let plan = try planOptions.load()
        let ctx = OpsContext(plan: plan)
        var results: [OpsRecord.Drill] = []
        var skipped: [(String, String)] = []
        let drills = PlanDrill(environment: ctx)
        for s in try ctx.sources(named: sources) {
            guard let repo = plan.repository(named: s.repository) else { continue }
            if let why = drills.skipReason(s) {
                skipped.append((s.name, why))
                continue
            }
            if !json { Terminal.info("drilling \(s.name) (\(s.kind.rawValue)) from \(repo.name)...") }
            var drill = await drills.drill(s, from: repo)
            drill.time = Date().timeIntervalSince1970
            if !noRecord {
                do { try await ctx.record(name: OpsRecord.drillName(source: s.name), extra: drill.extra, in: repo) } catch {
                    Terminal.warn("could not record the drill of \(s.name) in \(repo.name): \(error)")
                }
            }
            results.append(drill)
        }
        if json {
            Terminal.json(DrillJSON(drills: results.map { d in
                .init(source: d.source, kind: d.kind, ok: d.ok, seconds: d.seconds, snapshot: d.snapshot, message: d.message,
                      phases: d.phases.map { .init(name: $0.name, seconds: $0.seconds) })
            }, skipped: skipped.map { .init(source: $0.0, reason: $0.1) }))
        } else {
            let nameW = max(20, (results.map(\.source.count) + skipped.map(\.0.count)).max() ?? 0)
            Terminal.out("\("SOURCE".padding(nameW)) RESULT  RTO       PHASES                                    DETAIL")
            for d in results {
                let rto = plan.source(named: d.source)?.rto
                let phases = d.phases.map { "\($0.name) \(PlanDuration.format(seconds: $0.seconds))" }.joined(separator: ", ")
                let verdict = d.ok ? (rto.map { d.seconds <= Double($0) ? "ok" : "SLOW" } ?? "ok") : "FAILED"
                Terminal.out("\(d.source.padding(nameW)) \(verdict.padding(7)) \(PlanDuration.format(seconds: d.seconds).padding(9)) \(phases.padding(41)) \(d.message)")
            }
            for (n, why) in skipped { Terminal.out("\(n.padding(nameW)) skipped                                             \(why)") }
        }
        let failed = results.filter { !$0.ok }
        if !failed.isEmpty { throw CommandFailure.failed("\(failed.count) of \(results.count) drill(s) failed: \(failed.map(\.source).joined(separator: ", "))") }
    }
}

struct DrillJSON: Encodable {
    struct Phase: Encodable { let name: String, seconds: Double }
    struct Drill: Encodable { let source: String, kind: String, ok: Bool, seconds: Double, snapshot: String, message: String, phases: [Phase] }
    struct Skipped: Encodable { let source: String, reason: String }
    let drills: [Drill], skipped: [Skipped]
}

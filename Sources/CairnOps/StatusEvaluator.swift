import CairnEngine
import CairnRepository
import CairnPlan

/// Measures a plan's objectives from what its repositories hold (pure).
public enum StatusEvaluator {
    /// A source with an `rto` is breached when it was never drilled, its last drill failed, or took longer.
    /// `archivers`: per source, what its adapter found breached beyond RPO and RTO
    /// (`SourceAdapter.statusProblem`: the WAL archive's pg_stat_archiver problem), if any.
    public static func evaluate(plan: Plan, facts: [RepositoryFacts], now: Double, archivers: [String: String] = [:]) -> StatusReport {
        var sources: [StatusReport.Source] = []
        var repositories: [StatusReport.Repository] = []
        let byName = Dictionary(facts.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for src in plan.sources {
            let f = byName[src.repository]
            let named = (f?.snapshots ?? []).filter { $0.name == src.snapshotName && !$0.isOpsRecord }
            // A snapshot missing a whole source is no recovery point for it.
            let snaps = named.filter { SnapshotFacts.holdsEverySource($0.extra) }
            let newestSkipped = snaps.max { $0.time < $1.time }.map { SnapshotFacts.skippedCount($0.extra) } ?? 0
            let newest = snaps.map(\.time).max()
            let age = newest.map { max(0, now - $0) }
            var problems: [String] = []
            var rpoBreached = false
            if let rpo = src.rpo {
                if f?.snapshots == nil {
                    rpoBreached = true
                    problems.append("repository \(src.repository) unreadable: the recovery point cannot be measured")
                } else if let age {
                    if age > Double(rpo) {
                        rpoBreached = true
                        problems.append("newest snapshot is \(PlanDuration.format(Int64(age))) old, over the RPO of \(PlanDuration.format(rpo))")
                    }
                } else {
                    rpoBreached = true
                    problems.append("no snapshot named \(src.snapshotName) yet (RPO \(PlanDuration.format(rpo)))")
                }
            }
            if let a = archivers[src.name] { problems.append(a) }
            let drill = (f?.snapshots ?? []).filter { $0.name == OpsRecord.drillName(source: src.name) }
                .max { $0.time < $1.time }.flatMap(OpsRecord.Drill.init)
            var rtoBreached = false
            if let rto = src.rto {
                if let drill {
                    if !drill.ok {
                        rtoBreached = true
                        problems.append("the last drill failed: \(drill.message)")
                    } else if drill.seconds > Double(rto) {
                        rtoBreached = true
                        problems.append("the last drill took \(PlanDuration.format(seconds: drill.seconds)), over the RTO of \(PlanDuration.format(rto))")
                    }
                } else if f?.snapshots != nil {
                    rtoBreached = true
                    problems.append("RTO \(PlanDuration.format(rto)) not measured: no drill yet (run 'cairn drill --source \(src.name)')")
                }
            } else if let drill, !drill.ok {
                problems.append("the last drill failed: \(drill.message)")
            }
            sources.append(.init(name: src.name, kind: src.kind.rawValue, repository: src.repository, snapshotName: src.snapshotName,
                                 newest: newest, ageSeconds: age, rpoObjective: src.rpo, rpoBreached: rpoBreached,
                                 lastDrill: drill, rtoObjective: src.rto, rtoBreached: rtoBreached,
                                 snapshotCount: snaps.count, problems: problems,
                                 incompleteSnapshots: named.count - snaps.count, newestSkipped: newestSkipped))
        }
        for r in plan.repositories {
            let f = byName[r.name]
            var problems: [String] = []
            guard let f, let snaps = f.snapshots else {
                problems.append("cannot read the repository: \(f?.error ?? "not opened")")
                repositories.append(.init(name: r.name, reachable: false, error: f?.error, storedBytes: 0, uniqueBytes: 0,
                                          snapshotCount: 0, dailyGrowthBytes: 0, lastScrub: nil, problems: problems))
                continue
            }
            let scrub = snaps.filter { $0.name == OpsRecord.scrubName }.max { $0.time < $1.time }.flatMap(OpsRecord.Scrub.init)
            if let scrub, !scrub.clean { problems.append("the last scrub \(scrub.ran ? "found damage" : "could not run"): \(scrub.message)") }
            if let days = r.immutableDays {
                problems += (f.protection ?? ProtectionFacts(error: "not measured")).problems(immutableDays: days, now: now)
            }
            let week = snaps.filter { !$0.isOpsRecord && $0.time > now - 7 * 86_400 }
            let growth = Double(StorageRatios.total(week.map(\.newBytes))) / 7
            repositories.append(.init(name: r.name, reachable: true, error: nil, storedBytes: f.storedBytes, uniqueBytes: f.uniqueBytes,
                                      snapshotCount: snaps.filter { !$0.isOpsRecord }.count, dailyGrowthBytes: growth,
                                      lastScrub: scrub, problems: problems, protection: f.protection))
        }
        return StatusReport(time: now, sources: sources, repositories: repositories)
    }
}

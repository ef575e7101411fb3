import CairnEngine
import CairnPlan
import Foundation

/// `cairn run`: the plan's due backups (or the named ones), then copies into the repositories with
/// `copy-from`, forget/prune and Object Lock extension, and a scrub slice with its result recorded,
/// each a `RunStep`. Every child process and repository access goes through the injected environment.
public struct PlanRun {
    /// How the run was asked for.
    public struct Options: Sendable {
        /// Sources were named (`--source`) or `--all` given: back them up whether due or not.
        public var named = false
        /// Plan only: every step `planned`, nothing run or recorded.
        public var dryRun = false
        /// Backups only: no copy, forget, lock extension or scrub.
        public var backupsOnly = false
        /// Tell the person watching what runs (off for `--json`).
        public var verbose = true

        public init(named: Bool = false, dryRun: Bool = false, backupsOnly: Bool = false, verbose: Bool = true) {
            self.named = named; self.dryRun = dryRun; self.backupsOnly = backupsOnly; self.verbose = verbose
        }
    }

    public let plan: Plan
    public let options: Options
    let environment: any PlanRunEnvironment

    public init(plan: Plan, options: Options, environment: any PlanRunEnvironment) {
        self.plan = plan; self.options = options; self.environment = environment
    }

    /// Runs what is due among `chosen` (all of them when named) and the maintenance after it; a run with
    /// nothing to do is one `skipped` step saying so.
    public func run(_ chosen: [PlanSource], now: Date, calendar: Calendar = .current) async -> [RunStep] {
        var steps: [RunStep] = []
        let facts = await environment.facts(only: nil)
        var newest: [String: Double] = [:]
        for f in facts {
            for s in f.snapshots ?? [] where !s.isOpsRecord { newest[f.name + "\0" + s.name] = max(newest[f.name + "\0" + s.name] ?? 0, s.time) }
        }
        var touched = Set<String>()
        for s in chosen {
            let args: [String]
            switch SourceRegistry.adapter(for: s.kind).backup(s, waitLock: "10m") {
            case .command(let a): args = a
            case .notRun(let why):
                if options.named { steps.append(RunStep(step: "backup", target: s.name, outcome: .skipped, detail: why)) }
                continue
            }
            if !options.named {
                guard let schedule = s.schedule else { continue }
                let last = newest[s.repository + "\0" + s.snapshotName].map { Date(timeIntervalSince1970: $0) }
                guard schedule.isDue(newest: last, now: now, calendar: calendar) else { continue }
            }
            guard let repo = plan.repository(named: s.repository) else { continue }
            if options.dryRun {
                steps.append(RunStep(step: "backup", target: s.name, outcome: .planned, detail: "cairn " + args.joined(separator: " ")))
                touched.insert(repo.name)
                continue
            }
            tell("backing up \(s.name) (\(s.kind.rawValue)) into \(repo.name)...")
            do {
                let r = try environment.cairn(args, repo, extraEnvironment: [:], maintenance: false)
                let id = (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])?["snapshot_id"] as? String
                switch r.status {
                case ExitStatus.success: steps.append(RunStep(step: "backup", target: s.name, outcome: .ok, seconds: r.seconds, detail: id.map { "snapshot \($0.prefix(8))" } ?? "done"))
                case ExitStatus.partial: steps.append(RunStep(step: "backup", target: s.name, outcome: .warning, seconds: r.seconds, detail: r.lastErrorLine))
                default: steps.append(RunStep(step: "backup", target: s.name, outcome: .failed, seconds: r.seconds, detail: r.lastErrorLine))
                }
                if r.status == ExitStatus.success || r.status == ExitStatus.partial { touched.insert(repo.name) }
            } catch {
                steps.append(RunStep(step: "backup", target: s.name, outcome: .failed, detail: "\(error)"))
            }
        }
        if !options.backupsOnly {
            steps += await copies(facts: facts, touched: &touched)
            for r in plan.repositories where touched.contains(r.name) && !r.keep.isEmpty {
                let args = ["forget"] + r.keep.forgetArguments + (r.prune ? ["--prune"] : []) + ["--wait-lock", "10m", "--json"]
                steps.append(step("forget", r, args, maintenance: true))
            }
            // S3 Object Lock: keep what is still used locked, well ahead of immutable-days (Docs/immutability.md).
            let locked = Set(facts.filter { $0.protection?.mode != nil }.map(\.name))
            for r in plan.repositories where locked.contains(r.name) || r.immutableDays != nil {
                var args = ["lock", "extend", "--wait-lock", "10m", "--json"]
                if let days = r.immutableDays { args += ["--renew-before", "\(days + 2)d"] }
                steps.append(step("lock-extend", r, args, maintenance: true))
            }
            for r in plan.repositories where touched.contains(r.name) && r.scrub.enabled {
                let args = ["scrub"] + r.scrub.arguments + ["--json"]
                let st = step("scrub", r, args)
                steps.append(st)
                if !options.dryRun {
                    let rec = OpsRecord.Scrub(clean: st.outcome == .ok, ran: st.outcome != .failed || st.detail.contains("damage"),
                                              message: st.detail, seconds: st.seconds)
                    do { try await environment.record(name: OpsRecord.scrubName, extra: rec.extra, in: r) } catch {
                        steps.append(RunStep(step: "record", target: r.name, outcome: .warning, detail: "could not record the scrub result: \(error)"))
                    }
                }
            }
        }
        if steps.isEmpty { steps.append(RunStep(step: "-", target: "-", outcome: .skipped, detail: "nothing is due")) }
        return steps
    }

    private func tell(_ message: String) {
        if options.verbose { environment.info(message) }
    }

    /// The copy step: each repository with `copy-from` (sources before their copies) gets its
    /// source's new snapshots (`cairn copy --to DEST ID...` run against the source, the destination's
    /// passphrase file in CAIRN_TO_PASSWORD_FILE, never on the command line); a repository that
    /// received copies is then forgotten and scrubbed like one that received backups.
    private func copies(facts: [RepositoryFacts], touched: inout Set<String>) async -> [RunStep] {
        var steps: [RunStep] = []
        let order = Replication.order(plan)
        guard !order.isEmpty else { return [] }
        for r in order {
            guard let fromName = r.copyFrom, let from = plan.repository(named: fromName) else { continue }
            // Read again (after the backups and earlier copies); a dry run has only what was there before.
            let now = options.dryRun ? facts : await environment.facts(only: [from.name, r.name])
            let byName = Dictionary(now.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            let ids = Replication.newSnapshots(source: byName[from.name], destination: byName[r.name])
            if let ids, ids.isEmpty, !(options.dryRun && touched.contains(from.name)) {
                if touched.contains(from.name) { steps.append(RunStep(step: "copy", target: r.name, outcome: .skipped, detail: "from \(from.name): nothing new")) }
                continue
            }
            // The new ones by id; every snapshot when a repository is unreadable (the copy then says why it fails).
            let args = ["copy", "--to", r.url, "--wait-lock", "10m", "--json"] + (ids ?? [])
            let what = ids.map { $0.isEmpty ? "the new snapshots" : "\($0.count) new snapshot(s)" } ?? "every snapshot"
            if options.dryRun {
                steps.append(RunStep(step: "copy", target: r.name, outcome: .planned, detail: "cairn copy --to \(r.url): \(what) of \(from.name)"))
                touched.insert(r.name)
                continue
            }
            tell("copying \(from.name) into \(r.name)...")
            do {
                let res = try environment.cairn(args, from, extraEnvironment: ["CAIRN_TO_PASSWORD_FILE": r.passwordFile], maintenance: false)
                guard res.status == ExitStatus.success else {
                    steps.append(RunStep(step: "copy", target: r.name, outcome: .failed, seconds: res.seconds, detail: "from \(from.name): " + res.lastErrorLine))
                    continue
                }
                let o = (try? JSONSerialization.jsonObject(with: Data(res.stdout.utf8))) as? [String: Any]
                let copied = (o?["copied"] as? [Any])?.count ?? 0
                let skipped = (o?["skipped"] as? [Any])?.count ?? 0
                let added = (o?["bytes_added"] as? NSNumber)?.uint64Value ?? 0
                if copied > 0 { touched.insert(r.name) }
                steps.append(RunStep(step: "copy", target: r.name, outcome: .ok, seconds: res.seconds,
                                     detail: "from \(from.name): \(copied) snapshot(s) copied, \(skipped) already there, \(ProgressText.bytes(added)) added"
                                         + (o?["rechunked"] as? Bool == true ? " (re-chunked)" : "")))
            } catch {
                steps.append(RunStep(step: "copy", target: r.name, outcome: .failed, detail: "from \(from.name): \(error)"))
            }
        }
        return steps
    }

    private func step(_ name: String, _ r: PlanRepository, _ args: [String], maintenance: Bool = false) -> RunStep {
        if options.dryRun { return RunStep(step: name, target: r.name, outcome: .planned, detail: "cairn " + args.joined(separator: " ")) }
        tell("\(name) \(r.name)...")
        do {
            let res = try environment.cairn(args, r, extraEnvironment: [:], maintenance: maintenance)
            switch res.status {
            case ExitStatus.success: return RunStep(step: name, target: r.name, outcome: .ok, seconds: res.seconds, detail: Self.summary(name, res))
            case ExitStatus.damage where name == "scrub": return RunStep(step: name, target: r.name, outcome: .failed, seconds: res.seconds, detail: "damage found: " + res.lastErrorLine)
            case ExitStatus.partial: return RunStep(step: name, target: r.name, outcome: .warning, seconds: res.seconds, detail: res.lastErrorLine)
            default: return RunStep(step: name, target: r.name, outcome: .failed, seconds: res.seconds, detail: res.lastErrorLine)
            }
        } catch {
            return RunStep(step: name, target: r.name, outcome: .failed, detail: "\(error)")
        }
    }

    /// The one-line summary of a maintenance step from its `--json` output.
    static func summary(_ name: String, _ r: ChildResult) -> String {
        guard let o = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] else { return "done" }
        if name == "scrub" {
            return "clean; \(o["packs_read"] ?? 0) packs read, \(o["snapshots_checked"] ?? 0) snapshots checked"
        }
        if let removed = o["removed"] as? [Any] { return "\(removed.count) snapshot(s) removed" }
        if name == "lock-extend" { return "\(o["extended"] ?? 0) of \(o["objects"] ?? 0) objects extended; all locked until \(o["earliest_retain_until"] ?? "-")" }
        return "done"
    }
}

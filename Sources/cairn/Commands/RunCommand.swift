import ArgumentParser
import CairnOps
import CairnPlan
import Foundation

/// `cairn run`: what is due (or named) is backed up, then retention and a scrub slice run.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the plan: due backups, then copies, forget/prune per repository, a scrub slice (exit 0 done, 1 something failed, 3 warnings).")

    @OptionGroup var planOptions: PlanOptions

    @Option(name: .customLong("source"), help: "Back up this source whether due or not (repeatable).")
    var sources: [String] = []

    @Flag(help: "Back up every source whether due or not.")
    var all = false

    @Flag(help: "Print what would run; change nothing.")
    var dryRun = false

    @Flag(help: "Print one JSON document (times in RFC 3339 UTC).")
    var json = false

    @Option(name: .customLong("wait-lock"), help: "Wait this long for another cairn run to finish (default 0: exit at once with a message).")
    var waitLock: String = "0"

    @Flag(help: "Skip forget/prune and the scrub slice (backups only).")
    var backupsOnly = false

    func validate() throws {
        if all && !sources.isEmpty { throw ValidationError("give --all or --source NAME, not both") }
        if waitLock != "0" && PlanDuration.fractionalSeconds(waitLock) == nil { throw ValidationError("--wait-lock takes a duration like 10m") }
    }

    func run() async throws {
        let plan = try planOptions.load()
        let ctx = OpsContext(plan: plan)
        let chosen = try ctx.sources(named: sources)
        let lockPath = (plan.repositories.first.flatMap { try? ctx.cacheBase($0) } ?? NSTemporaryDirectory()) + "/cairn-run.lock"
        let lock: RunLock?
        do { lock = dryRun ? nil : try RunLock(path: lockPath, wait: waitLock == "0" ? 0 : PlanDuration.fractionalSeconds(waitLock) ?? 0) } catch let e as OpsError {
            throw PlanLoadError.message(e.description)
        }
        defer { _ = lock }

        var steps: [RunStep] = []
        let facts = await ctx.facts()
        let newest: [String: Double] = {
            var m: [String: Double] = [:]
            for f in facts { for s in f.snapshots ?? [] where !s.isOpsRecord { m[f.name + "\0" + s.name] = max(m[f.name + "\0" + s.name] ?? 0, s.time) } }
            return m
        }()
        let now = Date()
        var touched = Set<String>()
        for s in chosen {
            let named = all || !sources.isEmpty
            if s.kind == .pgWAL {
                if named { steps.append(RunStep(step: "backup", target: s.name, outcome: .skipped, detail: "pg-wal is filled by archive_command (cairn wal-push)")) }
                continue
            }
            if !named {
                guard let schedule = s.schedule else { continue }
                let last = newest[s.repository + "\0" + s.snapshotName].map { Date(timeIntervalSince1970: $0) }
                guard schedule.isDue(newest: last, now: now, calendar: .current) else { continue }
            }
            guard let repo = plan.repository(named: s.repository) else { continue }
            guard case .success(let args) = BackupInvocation.arguments(for: s) else { continue }
            if dryRun {
                steps.append(RunStep(step: "backup", target: s.name, outcome: .planned, detail: "cairn " + args.joined(separator: " ")))
                touched.insert(repo.name)
                continue
            }
            if !json { Terminal.info("backing up \(s.name) (\(s.kind.rawValue)) into \(repo.name)...") }
            do {
                let r = try ctx.cairn(args, repo)
                let id = (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])?["snapshot_id"] as? String
                switch r.status {
                case 0: steps.append(RunStep(step: "backup", target: s.name, outcome: .ok, seconds: r.seconds, detail: id.map { "snapshot \($0.prefix(8))" } ?? "done"))
                case 3: steps.append(RunStep(step: "backup", target: s.name, outcome: .warning, seconds: r.seconds, detail: r.lastErrorLine))
                default: steps.append(RunStep(step: "backup", target: s.name, outcome: .failed, seconds: r.seconds, detail: r.lastErrorLine))
                }
                if r.status == 0 || r.status == 3 { touched.insert(repo.name) }
            } catch {
                steps.append(RunStep(step: "backup", target: s.name, outcome: .failed, detail: "\(error)"))
            }
        }
        if !backupsOnly {
            steps += await copies(plan, ctx, facts: facts, touched: &touched)
            for r in plan.repositories where touched.contains(r.name) && !r.keep.isEmpty {
                let args = ["forget"] + r.keep.forgetArguments + (r.prune ? ["--prune"] : []) + ["--wait-lock", "10m", "--json"]
                steps.append(step("forget", r, args, ctx, maintenance: true))
            }
            // S3 Object Lock: keep what is still used locked, well ahead of immutable-days (Docs/immutability.md).
            let locked = Set(facts.filter { $0.protection?.mode != nil }.map(\.name))
            for r in plan.repositories where locked.contains(r.name) || r.immutableDays != nil {
                var args = ["lock", "extend", "--wait-lock", "10m", "--json"]
                if let days = r.immutableDays { args += ["--renew-before", "\(days + 2)d"] }
                steps.append(step("lock-extend", r, args, ctx, maintenance: true))
            }
            for r in plan.repositories where touched.contains(r.name) && r.scrub.enabled {
                let args = ["scrub"] + r.scrub.arguments + ["--json"]
                let st = step("scrub", r, args, ctx)
                steps.append(st)
                if !dryRun {
                    let rec = OpsRecord.Scrub(clean: st.outcome == .ok, ran: st.outcome != .failed || st.detail.contains("damage"),
                                              message: st.detail, seconds: st.seconds)
                    do { try await ctx.record(name: OpsRecord.scrubName, extra: rec.extra, in: r) } catch {
                        steps.append(RunStep(step: "record", target: r.name, outcome: .warning, detail: "could not record the scrub result: \(error)"))
                    }
                }
            }
        }
        if steps.isEmpty { steps.append(RunStep(step: "-", target: "-", outcome: .skipped, detail: "nothing is due")) }
        if json {
            Terminal.json(steps.map { RunStepJSON(step: $0.step, target: $0.target, outcome: $0.outcome.rawValue, seconds: $0.seconds, detail: $0.detail) })
        } else {
            let targetW = max(20, steps.map(\.target.count).max() ?? 0)
            Terminal.out("STEP     \("TARGET".padding(targetW)) RESULT    SECONDS  DETAIL")
            for s in steps {
                Terminal.out("\(s.step.padding(8)) \(s.target.padding(targetW)) \(s.outcome.rawValue.padding(9)) \(String(format: "%7.1f", s.seconds))  \(s.detail)")
            }
        }
        let code = RunStep.exitCode(steps)
        if code != 0 { throw ExitCode(code) }
    }

    /// The copy step: each repository with `copy-from` (sources before their copies) gets its
    /// source's new snapshots (`cairn copy --to DEST ID...` run against the source, the destination's
    /// passphrase file in CAIRN_TO_PASSWORD_FILE, never on the command line); a repository that
    /// received copies is then forgotten and scrubbed like one that received backups.
    private func copies(_ plan: Plan, _ ctx: OpsContext, facts: [RepositoryFacts], touched: inout Set<String>) async -> [RunStep] {
        var steps: [RunStep] = []
        let order = Replication.order(plan)
        guard !order.isEmpty else { return [] }
        for r in order {
            guard let fromName = r.copyFrom, let from = plan.repository(named: fromName) else { continue }
            // Read again (after the backups and earlier copies); a dry run has only what was there before.
            let now = dryRun ? facts : await ctx.facts(only: [from.name, r.name])
            let byName = Dictionary(now.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            let ids = Replication.newSnapshots(source: byName[from.name], destination: byName[r.name])
            if let ids, ids.isEmpty, !(dryRun && touched.contains(from.name)) {
                if touched.contains(from.name) { steps.append(RunStep(step: "copy", target: r.name, outcome: .skipped, detail: "from \(from.name): nothing new")) }
                continue
            }
            // The new ones by id; every snapshot when a repository is unreadable (the copy then says why it fails).
            let args = ["copy", "--to", r.url, "--wait-lock", "10m", "--json"] + (ids ?? [])
            let what = ids.map { $0.isEmpty ? "the new snapshots" : "\($0.count) new snapshot(s)" } ?? "every snapshot"
            if dryRun {
                steps.append(RunStep(step: "copy", target: r.name, outcome: .planned, detail: "cairn copy --to \(r.url): \(what) of \(from.name)"))
                touched.insert(r.name)
                continue
            }
            if !json { Terminal.info("copying \(from.name) into \(r.name)...") }
            do {
                let res = try ctx.cairn(args, from, extraEnvironment: ["CAIRN_TO_PASSWORD_FILE": r.passwordFile])
                guard res.status == 0 else {
                    steps.append(RunStep(step: "copy", target: r.name, outcome: .failed, seconds: res.seconds, detail: "from \(from.name): " + res.lastErrorLine))
                    continue
                }
                let o = (try? JSONSerialization.jsonObject(with: Data(res.stdout.utf8))) as? [String: Any]
                let copied = (o?["copied"] as? [Any])?.count ?? 0
                let skipped = (o?["skipped"] as? [Any])?.count ?? 0
                let added = (o?["bytes_added"] as? NSNumber)?.uint64Value ?? 0
                if copied > 0 { touched.insert(r.name) }
                steps.append(RunStep(step: "copy", target: r.name, outcome: .ok, seconds: res.seconds,
                                     detail: "from \(from.name): \(copied) snapshot(s) copied, \(skipped) already there, \(Terminal.bytes(added)) added"
                                         + (o?["rechunked"] as? Bool == true ? " (re-chunked)" : "")))
            } catch {
                steps.append(RunStep(step: "copy", target: r.name, outcome: .failed, detail: "from \(from.name): \(error)"))
            }
        }
        return steps
    }

    private func step(_ name: String, _ r: PlanRepository, _ args: [String], _ ctx: OpsContext, maintenance: Bool = false) -> RunStep {
        if dryRun { return RunStep(step: name, target: r.name, outcome: .planned, detail: "cairn " + args.joined(separator: " ")) }
        if !json { Terminal.info("\(name) \(r.name)...") }
        do {
            let res = try ctx.cairn(args, r, maintenance: maintenance)
            switch res.status {
            case 0: return RunStep(step: name, target: r.name, outcome: .ok, seconds: res.seconds, detail: summary(name, res))
            case 4 where name == "scrub": return RunStep(step: name, target: r.name, outcome: .failed, seconds: res.seconds, detail: "damage found: " + res.lastErrorLine)
            case 3: return RunStep(step: name, target: r.name, outcome: .warning, seconds: res.seconds, detail: res.lastErrorLine)
            default: return RunStep(step: name, target: r.name, outcome: .failed, seconds: res.seconds, detail: res.lastErrorLine)
            }
        } catch {
            return RunStep(step: name, target: r.name, outcome: .failed, detail: "\(error)")
        }
    }

    private func summary(_ name: String, _ r: ChildResult) -> String {
        guard let o = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] else { return "done" }
        if name == "scrub" {
            return "clean; \(o["packs_read"] ?? 0) packs read, \(o["snapshots_checked"] ?? 0) snapshots checked"
        }
        if let removed = o["removed"] as? [Any] { return "\(removed.count) snapshot(s) removed" }
        if name == "lock-extend" { return "\(o["extended"] ?? 0) of \(o["objects"] ?? 0) objects extended; all locked until \(o["earliest_retain_until"] ?? "-")" }
        return "done"
    }
}

struct RunStepJSON: Encodable { let step: String, target: String, outcome: String, seconds: Double, detail: String }

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

        let steps = await PlanRun(plan: plan, options: .init(named: all || !sources.isEmpty, dryRun: dryRun, backupsOnly: backupsOnly, verbose: !json),
                                  environment: ctx).run(chosen, now: Date())
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
        // The table above says which step failed or warned.
        if code != 0 { throw CommandFailure(code) }
    }
}

struct RunStepJSON: Encodable { let step: String, target: String, outcome: String, seconds: Double, detail: String }

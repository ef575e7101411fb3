import ArgumentParser
import CairnPlan
import Foundation

/// `cairn plan check`: validates the plan file.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Work with the backup plan file (cairn.toml; see Docs/operations.md).",
        subcommands: [PlanCheckCommand.self])
}

/// Validates a plan: every problem with its line and key; exit 0 valid, 1 not.
struct PlanCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the plan file: every error names the line and key (exit 0 valid, 1 invalid).")

    @OptionGroup var planOptions: PlanOptions

    @Flag(help: "Print one JSON document (times in RFC 3339 UTC).")
    var json = false

    func run() async throws {
        let plan = try planOptions.load()
        let checks = plan.sources.reduce(0) { $0 + $1.checks.count }
        if json {
            Terminal.json(PlanJSON(plan))
            return
        }
        Terminal.out("\(plan.file): ok: \(plan.repositories.count) repositor\(plan.repositories.count == 1 ? "y" : "ies"), \(plan.sources.count) source(s), \(checks) drill check(s)")
        for r in plan.repositories {
            let keep = r.keep.isEmpty ? "keep everything" : "keep " + r.keep.rules.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            Terminal.out("  repository \(r.name): \(r.url); \(keep)\(r.copyFrom.map { "; copy from \($0)" } ?? "")")
        }
        for s in plan.sources {
            var parts = [s.kind.rawValue, "-> \(s.repository) as \(s.snapshotName)"]
            if let sch = s.schedule { parts.append(sch.description) }
            if let rpo = s.rpo { parts.append("RPO \(PlanDuration.format(rpo))") }
            if let rto = s.rto { parts.append("RTO \(PlanDuration.format(rto))") }
            Terminal.out("  source \(s.name): " + parts.joined(separator: ", "))
        }
    }
}

struct PlanJSON: Encodable {
    struct Repo: Encodable { let name: String, url: String, keep: [String], copy_from: String?, prune: Bool }
    struct Src: Encodable { let name: String, kind: String, repository: String, snapshot_name: String, schedule: String?, rpo_seconds: Int64?, rto_seconds: Int64?, checks: Int }
    let file: String, valid: Bool, repositories: [Repo], sources: [Src]
    init(_ p: Plan) {
        file = p.file; valid = true
        repositories = p.repositories.map { Repo(name: $0.name, url: $0.url, keep: $0.keep.forgetArguments, copy_from: $0.copyFrom, prune: $0.prune) }
        sources = p.sources.map { Src(name: $0.name, kind: $0.kind.rawValue, repository: $0.repository, snapshot_name: $0.snapshotName,
                                      schedule: $0.schedule?.description, rpo_seconds: $0.rpo, rto_seconds: $0.rto, checks: $0.checks.count) }
    }
}

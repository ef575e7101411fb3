import ArgumentParser
import CairnOps
import Foundation

/// `cairn report --html FILE`: one self-contained HTML page of the plan's objectives and history;
/// `--json`: the same facts as one JSON document.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one self-contained HTML page: size and growth per source, dedup/compression, RPO/RTO vs objectives, drill and scrub history.",
        discussion: """
            --json prints the same facts as one JSON document (with or without --html): "status" (as 'cairn status --json'), \
            "repositories" (sizes, ratios, every backup's time, logical and new bytes), "drills" and "scrubs" (every one \
            recorded, newest first). Times are RFC 3339 UTC.

            Examples:
              cairn report --html /var/www/cairn/report.html
              cairn report --json --plan /etc/cairn/cairn.toml | jq '.repositories[].dedup_ratio'
            """)

    @OptionGroup var planOptions: PlanOptions

    @Option(help: "The HTML file to write (replaced atomically).")
    var html: String?

    @Flag(help: "Print the report's facts as one JSON document.")
    var json = false

    func validate() throws {
        if html == nil && !json { throw ValidationError("give --html FILE (the page) or --json (the facts), or both") }
        if html == "" { throw ValidationError("--html is empty: name the file to write") }
    }

    func run() async throws {
        let plan = try planOptions.load()
        let ctx = OpsContext(plan: plan)
        let facts = await ctx.facts()
        let now = Date().timeIntervalSince1970
        if let html {
            let page = HTMLReport.render(plan: plan, facts: facts, now: now)
            let tmp = html + ".tmp"
            do {
                try Data(page.utf8).write(to: URL(fileURLWithPath: tmp))
            } catch {
                throw PlanLoadError.message("cannot write the report \(tmp): \(String(cString: strerror(errno)))")
            }
            guard rename(tmp, html) == 0 else {
                let why = String(cString: strerror(errno))
                unlink(tmp)
                throw PlanLoadError.message("cannot rename \(tmp) to \(html): \(why)")
            }
            if !json { Terminal.info("wrote \(html)") }
        }
        if json {
            Terminal.json(ReportJSON(html: html, status: StatusEvaluator.evaluate(plan: plan, facts: facts, now: now), facts: facts))
        }
    }
}

struct ReportJSON: Encodable {
    struct Backup: Encodable { let id: String, name: String, time: String, logical_bytes: UInt64, new_bytes: UInt64 }
    struct Repository: Encodable {
        let name: String, error: String?, stored_bytes: UInt64, unique_bytes: UInt64
        let dedup_ratio: Double, compression_ratio: Double, backups: [Backup]
    }
    struct Drill: Encodable {
        let time: String, repository: String, source: String, kind: String, ok: Bool, seconds: Double, snapshot: String, message: String
        let phases: [String: Double]
    }
    struct Scrub: Encodable { let time: String, repository: String, clean: Bool, ran: Bool, seconds: Double, message: String }

    let html: String?
    let status: StatusJSON
    let repositories: [Repository]
    let drills: [Drill]
    let scrubs: [Scrub]

    init(html: String?, status: StatusReport, facts: [RepositoryFacts]) {
        func t(_ s: Double) -> String { Terminal.rfc3339(seconds: s) }
        self.html = html
        self.status = StatusJSON(status)
        repositories = facts.map { f in
            let backups = (f.snapshots ?? []).filter { !$0.isOpsRecord }.sorted { $0.time < $1.time }
            return Repository(name: f.name, error: f.error, stored_bytes: f.storedBytes, unique_bytes: f.uniqueBytes,
                              dedup_ratio: f.ratios.dedup, compression_ratio: f.ratios.compression,
                              backups: backups.map { Backup(id: $0.id, name: $0.name, time: t($0.time), logical_bytes: $0.logicalBytes, new_bytes: $0.newBytes) })
        }
        drills = facts.flatMap { f in
            (f.snapshots ?? []).compactMap(OpsRecord.Drill.init).map { d in (f.name, d) }
        }.sorted { $0.1.time > $1.1.time }.map { (repository, d) in
                Drill(time: t(d.time), repository: repository, source: d.source, kind: d.kind, ok: d.ok, seconds: d.seconds, snapshot: d.snapshot,
                      message: d.message, phases: Dictionary(d.phases.map { ($0.name, $0.seconds) }, uniquingKeysWith: +))
        }
        scrubs = facts.flatMap { f in
            (f.snapshots ?? []).compactMap(OpsRecord.Scrub.init).map { s in (f.name, s) }
        }.sorted { $0.1.time > $1.1.time }.map { (repository, s) in
            Scrub(time: t(s.time), repository: repository, clean: s.clean, ran: s.ran, seconds: s.seconds, message: s.message)
        }
    }
}

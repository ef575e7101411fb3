import ArgumentParser
import CairnOps
import Foundation

/// `cairn report --html FILE`: one self-contained HTML page of the plan's objectives and history.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one self-contained HTML page: size and growth per source, dedup/compression, RPO/RTO vs objectives, drill and scrub history.")

    @OptionGroup var planOptions: PlanOptions

    @Option(help: "The HTML file to write (replaced atomically).")
    var html: String

    func run() async throws {
        let plan = try planOptions.load()
        let ctx = OpsContext(plan: plan)
        let page = HTMLReport.render(plan: plan, facts: await ctx.facts(), now: Date().timeIntervalSince1970)
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
        Terminal.info("wrote \(html)")
    }
}

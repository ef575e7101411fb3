import CairnPlan
import Foundation

/// `cairn report --html`: one self-contained page (inline CSS and SVG, no
/// scripts, nothing fetched) with what `cairn status` measures plus history:
/// repository size and growth per source over time, dedup and compression
/// ratios, each source's RPO and last drill RTO against its objective, the
/// drill and scrub history. Pure: facts in, HTML out; every string escaped.
public enum HTMLReport {
    /// Renders the page for `plan` from what its repositories hold, evaluated at `now`.
    public static func render(plan: Plan, facts: [RepositoryFacts], now: Double) -> String {
        let status = StatusEvaluator.evaluate(plan: plan, facts: facts, now: now)
        let byName = Dictionary(facts.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var body = ""
        let problems = status.sources.flatMap { s in s.problems.map { "source \(s.name): \($0)" } }
            + status.repositories.flatMap { r in r.problems.map { "repository \(r.name): \($0)" } }
        body += "<h1>Cairn report</h1>"
        body += "<p>Plan <code>\(e(plan.file))</code>, generated \(e(HTMLText.time(now))) UTC. "
        body += problems.isEmpty ? "<span class=\"ok\">All objectives hold.</span></p>"
                                 : "<span class=\"bad\">\(problems.count) objective(s) breached.</span></p><ul class=\"bad\">"
                                   + problems.map { "<li>\(e($0))</li>" }.joined() + "</ul>"
        body += objectives(status)
        body += repositories(plan: plan, status: status, facts: byName)
        body += drills(status: status, plan: plan, facts: byName)
        body += scrubs(plan: plan, facts: byName)
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>Cairn report</title>
        <style>
        body{font-family:sans-serif;margin:2em;color:#222;max-width:80em}
        table{border-collapse:collapse;margin:.5em 0 1.5em}
        th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;font-size:.9em}
        th{background:#f3f3f3}
        .ok{color:#2ca02c;font-weight:bold}.bad{color:#d62728;font-weight:bold}
        svg{display:block;margin:.5em 0 1em;background:#fff}
        </style></head><body>
        \(body)
        </body></html>

        """
    }

    // MARK: sections

    /// RPO and RTO per source: a table and two bar charts with the objectives marked.
    static func objectives(_ status: StatusReport) -> String {
        var h = "<h2>Recovery objectives</h2><table><tr><th>source</th><th>kind</th><th>repository</th><th>newest snapshot</th><th>age</th><th>RPO</th><th>last drill (RTO)</th><th>RTO</th><th>state</th></tr>"
        for s in status.sources {
            let drill = s.lastDrill.map { ($0.ok ? "" : "FAILED ") + PlanDuration.format(seconds: $0.seconds) + " on " + HTMLText.time($0.time) } ?? "none"
            h += "<tr><td>\(e(s.name))</td><td>\(e(s.kind))</td><td>\(e(s.repository))</td>"
            h += "<td>\(e(s.newest.map(HTMLText.time) ?? "never"))</td><td>\(e(s.ageSeconds.map { PlanDuration.format(Int64($0)) } ?? "-"))</td>"
            h += "<td>\(e(s.rpoObjective.map(PlanDuration.format) ?? "-"))</td><td>\(e(drill))</td><td>\(e(s.rtoObjective.map(PlanDuration.format) ?? "-"))</td>"
            h += s.problems.isEmpty ? "<td class=\"ok\">ok</td></tr>" : "<td class=\"bad\">\(e(s.problems.joined(separator: "; ")))</td></tr>"
        }
        h += "</table>"
        let rpo = status.sources.compactMap { s -> SVGChart.Bar? in
            guard s.ageSeconds != nil || s.rpoObjective != nil else { return nil }
            let age = s.ageSeconds ?? 0
            let text = (s.ageSeconds.map { PlanDuration.format(Int64($0)) } ?? "no snapshot") + (s.rpoObjective.map { " (RPO " + PlanDuration.format($0) + ")" } ?? "")
            return SVGChart.Bar(label: s.name, value: age, objective: s.rpoObjective.map(Double.init), breached: s.rpoBreached, text: text)
        }
        h += SVGChart.bars(title: "Recovery point: newest snapshot's age vs RPO (dashed)", bars: rpo)
        let rto = status.sources.compactMap { s -> SVGChart.Bar? in
            guard s.lastDrill != nil || s.rtoObjective != nil else { return nil }
            let text = (s.lastDrill.map { ($0.ok ? "" : "FAILED ") + PlanDuration.format(seconds: $0.seconds) } ?? "not drilled")
                + (s.rtoObjective.map { " (RTO " + PlanDuration.format($0) + ")" } ?? "")
            return SVGChart.Bar(label: s.name, value: s.lastDrill?.seconds ?? 0, objective: s.rtoObjective.map(Double.init),
                                breached: s.rtoBreached || s.lastDrill?.ok == false, text: text)
        }
        h += SVGChart.bars(title: "Recovery time: last drill vs RTO (dashed)", bars: rto)
        return h
    }

    /// Per repository: size, ratios, and growth per source over time.
    static func repositories(plan: Plan, status: StatusReport, facts: [String: RepositoryFacts]) -> String {
        var h = "<h2>Repositories</h2><table><tr><th>repository</th><th>stored</th><th>unique</th><th>snapshots</th><th>growth/day (7 days)</th><th>dedup ratio</th><th>compression ratio</th></tr>"
        var ratioBars: [SVGChart.Bar] = []
        for r in status.repositories {
            guard r.reachable, let f = facts[r.name] else {
                h += "<tr><td>\(e(r.name))</td><td colspan=\"6\" class=\"bad\">unreachable: \(e(r.error ?? "not opened"))</td></tr>"
                continue
            }
            let ratios = f.ratios
            h += "<tr><td>\(e(r.name))</td><td>\(e(HTMLText.bytes(Double(r.storedBytes))))</td><td>\(e(HTMLText.bytes(Double(r.uniqueBytes))))</td>"
            h += "<td>\(r.snapshotCount)</td><td>\(e(HTMLText.bytes(r.dailyGrowthBytes)))</td>"
            h += "<td class=\"ratio\">\(ratio(ratios.dedup))</td><td class=\"ratio\">\(ratio(ratios.compression))</td></tr>"
            ratioBars.append(.init(label: r.name + " dedup", value: ratios.dedup, text: ratio(ratios.dedup) + "x"))
            ratioBars.append(.init(label: r.name + " compression", value: ratios.compression, text: ratio(ratios.compression) + "x"))
        }
        h += "</table>"
        h += SVGChart.bars(title: "Dedup and compression ratios", bars: ratioBars)
        for r in plan.repositories {
            guard let snaps = facts[r.name]?.snapshots else { continue }
            let backups = snaps.filter { !$0.isOpsRecord }.sorted { $0.time < $1.time }
            let label = Dictionary(plan.sources(in: r.name).map { ($0.snapshotName, $0.name) }, uniquingKeysWith: { a, _ in a })
            let names = Array(Set(backups.map(\.name))).sorted()
            var growth: [SVGChart.Series] = [], logical: [SVGChart.Series] = []
            var total: [(x: Double, y: Double)] = [], sum = 0.0
            for s in backups { sum += Double(s.newBytes); total.append((s.time, sum)) }
            for n in names {
                let own = backups.filter { $0.name == n }
                var acc = 0.0
                let title = label[n].map { $0 == n ? n : "\($0) (\(n))" } ?? n
                growth.append(.init(name: title, points: own.map { acc += Double($0.newBytes); return (x: $0.time, y: acc) }))
                logical.append(.init(name: title, points: own.map { (x: $0.time, y: Double($0.logicalBytes)) }))
            }
            if names.count > 1 { growth.insert(.init(name: "repository total", points: total), at: 0) }
            h += "<h3>Repository \(e(r.name))</h3>"
            h += SVGChart.lines(title: "\(r.name): stored growth (new bytes, cumulative) per source", series: growth) { HTMLText.bytes($0) }
            h += SVGChart.lines(title: "\(r.name): size of each snapshot (logical bytes) per source", series: logical) { HTMLText.bytes($0) }
        }
        return h
    }

    /// Every drill recorded, newest first.
    static func drills(status: StatusReport, plan: Plan, facts: [String: RepositoryFacts]) -> String {
        var rows: [(String, OpsRecord.Drill)] = []
        for r in plan.repositories {
            for s in facts[r.name]?.snapshots ?? [] { if let d = OpsRecord.Drill(s) { rows.append((r.name, d)) } }
        }
        var h = "<h2>Drill history</h2>"
        if rows.isEmpty { return h + "<p>No drill recorded yet (<code>cairn drill</code>).</p>" }
        h += "<table><tr><th>time</th><th>source</th><th>repository</th><th>result</th><th>RTO measured</th><th>phases</th><th>detail</th></tr>"
        for (repo, d) in rows.sorted(by: { $0.1.time > $1.1.time }) {
            h += "<tr><td>\(e(HTMLText.time(d.time)))</td><td>\(e(d.source))</td><td>\(e(repo))</td>"
            h += d.ok ? "<td class=\"ok\">passed</td>" : "<td class=\"bad\">failed</td>"
            h += "<td>\(e(PlanDuration.format(seconds: d.seconds)))</td><td>\(e(d.phases.map { "\($0.name) \(PlanDuration.format(seconds: $0.seconds))" }.joined(separator: ", ")))</td><td>\(e(d.message))</td></tr>"
        }
        return h + "</table>"
    }

    /// The scrub slices `cairn run` recorded, per repository: a timeline and a table.
    static func scrubs(plan: Plan, facts: [String: RepositoryFacts]) -> String {
        var h = "<h2>Scrub history</h2>"
        for r in plan.repositories {
            let runs = (facts[r.name]?.snapshots ?? []).compactMap(OpsRecord.Scrub.init).sorted { $0.time > $1.time }
            h += SVGChart.timeline(title: "\(r.name): scrubs (green clean, red damage or failure)",
                                   events: runs.map { .init(time: $0.time, ok: $0.clean, label: $0.message) })
            guard !runs.isEmpty else { continue }
            h += "<table><tr><th>time</th><th>repository</th><th>result</th><th>seconds</th><th>detail</th></tr>"
            for s in runs.prefix(50) {
                let result = s.clean ? "<td class=\"ok\">clean</td>" : "<td class=\"bad\">\(s.ran ? "damage" : "could not run")</td>"
                h += "<tr><td>\(e(HTMLText.time(s.time)))</td><td>\(e(r.name))</td>\(result)<td>\(e(String(format: "%.1f", s.seconds)))</td><td>\(e(s.message))</td></tr>"
            }
            h += "</table>"
        }
        return h
    }

    static func e(_ s: String) -> String { HTMLText.escape(s) }
    static func ratio(_ v: Double) -> String { String(format: "%.2f", v) }
}

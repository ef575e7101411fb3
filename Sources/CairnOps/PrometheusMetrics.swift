import Foundation

/// Prometheus textfile-collector metrics for a status report (names in Docs/operations.md).
public enum PrometheusMetrics {
    public static func render(_ r: StatusReport) -> String {
        var out = ""
        func family(_ name: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n"
            for s in samples { out += "\(name){\(s.labels)} \(s.value)\n" }
        }
        func src(_ s: StatusReport.Source) -> String { "source=\"\(escape(s.name))\",kind=\"\(s.kind)\",repository=\"\(escape(s.repository))\"" }
        func num(_ v: Double) -> String { format3(v) }
        family("cairn_source_last_success_timestamp_seconds", "Time of the source's newest snapshot (pg-wal: newest archived segment).",
               r.sources.compactMap { s in s.newest.map { (src(s), num($0)) } })
        family("cairn_source_rpo_seconds", "Age of the source's newest snapshot: the recovery point if disaster struck now.",
               r.sources.compactMap { s in s.ageSeconds.map { (src(s), num($0)) } })
        family("cairn_source_rpo_objective_seconds", "The source's recovery point objective.",
               r.sources.compactMap { s in s.rpoObjective.map { (src(s), String($0)) } })
        family("cairn_source_rpo_breached", "1 when the newest snapshot is older than the RPO (or missing).",
               r.sources.map { (src($0), $0.rpoBreached ? "1" : "0") })
        family("cairn_source_snapshots", "Snapshots of the source in its repository.",
               r.sources.map { (src($0), String($0.snapshotCount)) })
        family("cairn_drill_rto_seconds", "Duration of the source's last restore drill (the measured RTO).",
               r.sources.compactMap { s in s.lastDrill.map { (src(s), num($0.seconds)) } })
        family("cairn_drill_success", "1 when the source's last drill proved the restored copy usable.",
               r.sources.compactMap { s in s.lastDrill.map { (src(s), $0.ok ? "1" : "0") } })
        family("cairn_drill_last_timestamp_seconds", "Time of the source's last drill.",
               r.sources.compactMap { s in s.lastDrill.map { (src(s), num($0.time)) } })
        family("cairn_source_rto_objective_seconds", "The source's recovery time objective.",
               r.sources.compactMap { s in s.rtoObjective.map { (src(s), String($0)) } })
        family("cairn_source_rto_breached", "1 when the last drill failed, exceeded the RTO, or there was none.",
               r.sources.map { (src($0), $0.rtoBreached ? "1" : "0") })
        func rep(_ x: StatusReport.Repository) -> String { "repository=\"\(escape(x.name))\"" }
        family("cairn_repository_up", "1 when the repository could be opened and read.",
               r.repositories.map { (rep($0), $0.reachable ? "1" : "0") })
        family("cairn_repository_bytes", "Bytes of packs stored in the repository.",
               r.repositories.filter(\.reachable).map { (rep($0), String($0.storedBytes)) })
        family("cairn_repository_unique_bytes", "Plaintext bytes of unique chunks in the repository.",
               r.repositories.filter(\.reachable).map { (rep($0), String($0.uniqueBytes)) })
        family("cairn_repository_daily_growth_bytes", "Average plaintext bytes new per day over the last 7 days.",
               r.repositories.filter(\.reachable).map { (rep($0), num($0.dailyGrowthBytes)) })
        family("cairn_repository_last_scrub_success", "1 when the last scrub run by 'cairn run' found no damage.",
               r.repositories.compactMap { x in x.lastScrub.map { (rep(x), $0.clean ? "1" : "0") } })
        family("cairn_repository_last_scrub_timestamp_seconds", "Time of the last scrub run by 'cairn run'.",
               r.repositories.compactMap { x in x.lastScrub.map { (rep(x), num($0.time)) } })
        out += "# HELP cairn_status_breached 1 when any objective is breached (cairn status exits 5).\n# TYPE cairn_status_breached gauge\n"
        out += "cairn_status_breached \(r.breached ? 1 : 0)\n"
        out += "# HELP cairn_status_timestamp_seconds When these metrics were measured.\n# TYPE cairn_status_timestamp_seconds gauge\n"
        out += "cairn_status_timestamp_seconds \(num(r.time))\n"
        return out
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}

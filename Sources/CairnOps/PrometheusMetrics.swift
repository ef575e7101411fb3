import CairnEngine
import CairnRepository
import Foundation

/// Prometheus textfile-collector metrics of `status` and `scrub` (names in Docs/operations.md).
public enum PrometheusMetrics {
    /// The metrics of a status report.
    public static func render(_ r: StatusReport) -> String {
        var out = PrometheusText()
        func family(_ name: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            out.gauge(name, help: help, samples)
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
        out.gauge("cairn_status_breached", help: "1 when any objective is breached (cairn status exits \(ExitStatus.breach)).", r.breached ? "1" : "0")
        out.gauge("cairn_status_timestamp_seconds", help: "When these metrics were measured.", num(r.time))
        return out.text
    }

    /// The metrics of a scrub (`report` nil: the scrub could not open the repository), finished at `now`.
    public static func render(scrub r: ScrubReport?, now: Int) -> String {
        var out = PrometheusText()
        out.gauge("cairn_scrub_success", help: "1 if the last scrub ran and found no damage.", r?.isClean == true ? "1" : "0")
        out.gauge("cairn_scrub_last_run_timestamp_seconds", help: "When the last scrub finished.", String(now))
        guard let r else {
            out.gauge("cairn_scrub_ran", help: nil, "0")
            return out.text
        }
        out.gauge("cairn_scrub_ran", help: "1 if the last scrub could open the repository.", "1")
        out.gauge("cairn_scrub_bytes_verified", help: "Bytes of packs read and verified by the last scrub.", String(r.bytesVerified))
        out.gauge("cairn_scrub_damaged_packs", help: "Damaged or missing packs found by the last scrub.", String(r.packProblems.count))
        out.gauge("cairn_scrub_damaged_blobs", help: "Damaged or missing blobs found by the last scrub.", String(r.blobProblems.count))
        out.gauge("cairn_scrub_damaged_objects", help: "Unreadable key, index or snapshot objects.", String(r.objectProblems.count))
        out.gauge("cairn_scrub_affected_snapshots", help: "Snapshots that cannot be fully restored.", String(r.affectedSnapshots.count))
        out.gauge("cairn_scrub_index_damage", help: "1 if the index objects are damaged or miss blobs that packs hold (run 'cairn index rebuild --read-packs').",
                  r.indexDamaged ? "1" : "0")
        out.gauge("cairn_scrub_orphan_packs", help: "Packs no index object names.", String(r.orphanPacks.count))
        return out.text
    }

    static func escape(_ s: String) -> String { PrometheusText.escape(s) }
}

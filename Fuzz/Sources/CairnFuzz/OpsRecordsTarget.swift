import CairnFormat
import CairnOps
import CairnPlan

/// Snapshots as `cairn status`, `report` and the metrics read them: backups
/// and the drill and scrub records (`cairn-ops`) whose facts live in the
/// snapshot's `extra` map. Anyone holding the key can write a snapshot, so
/// its numbers are input like any other. The input is a list of snapshot
/// plaintexts, each after its length (u16).
enum OpsRecordsTarget {
    static let plan: Plan = {
        let text = """
        [repository.onsite]
        url = "/backups/cairn"
        password-file = "/etc/cairn/onsite.pass"
        [source.database]
        kind = "pg-dump"
        dbname = "dbname=app"
        repository = "onsite"
        rpo = "26h"
        rto = "15m"
        [source.files]
        kind = "tree"
        paths = ["/etc"]
        repository = "onsite"
        rpo = "8d"
        """
        do { return try PlanDecoder.decode(text, file: "fuzz.toml") } catch { fatalError("the fuzz plan does not decode: \(error)") }
    }()

    static let now = 1_700_100_000.0

    static let target = FuzzTarget(
        name: "ops-records", maxLength: 16 << 10,
        summary: "snapshots and cairn-ops records through StatusEvaluator, PrometheusMetrics and HTMLReport",
        flags: ["-detect_leaks=0"],
        seeds: seeds,
        run: run)

    static func run(_ bytes: [UInt8]) {
        var input = FuzzInput(bytes)
        var snapshots: [OpsSnapshot] = []
        while !input.rest.isEmpty {
            let plain = input.take(Int(input.u16()))
            guard let s = try? Snapshot.decode(plain) else { continue }
            snapshots.append(OpsSnapshot(id: "fuzz\(snapshots.count)", name: s.name, time: Double(s.timeNanos) / 1e9, tags: s.tags,
                                         logicalBytes: s.logicalBytes, newBytes: s.newBytes, extra: s.extra))
        }
        for s in snapshots {
            _ = OpsRecord.Drill(s)?.extra
            _ = OpsRecord.Scrub(s)?.extra
        }
        let facts = [RepositoryFacts(name: "onsite", snapshots: snapshots, storedBytes: 1 << 30, uniqueBytes: 1 << 29)]
        _ = facts[0].ratios
        let report = StatusEvaluator.evaluate(plan: plan, facts: facts, now: now)
        _ = PrometheusMetrics.render(report)
        _ = HTMLReport.render(plan: plan, facts: facts, now: now)
    }

    static func seeds() -> [[UInt8]] {
        func record(_ name: String, time: Double, tags: [String] = [], new: UInt64 = 4096, extra: [String: String] = [:]) -> [UInt8] {
            let s = Snapshot(timeNanos: Int64(time * 1e9), name: name, host: "db1", tags: tags, sourceKind: "tree",
                             root: SampleValues.id(1), logicalBytes: new * 10, newBytes: new, extra: extra)
            let b = s.encoded()
            return le16(UInt16(b.count)) + b
        }
        let drill = OpsRecord.Drill(source: "database", kind: "pg-dump", ok: true,
                                    phases: [.init("restore", 42.5), .init("check", 1.25)], snapshot: "abcd1234", message: "")
        let scrub = OpsRecord.Scrub(clean: false, ran: true, message: "1 pack damaged", seconds: 12.5)
        let backups = record("database", time: now - 3600) + record("files", time: now - 86_400 * 3, extra: ["skipped": "2"])
            + record("files", time: now - 86_400, extra: ["sources_missing": "1"])
        return [
            backups,
            backups + record(OpsRecord.drillName(source: "database"), time: now - 600, tags: [OpsRecord.tag], extra: drill.extra)
                + record(OpsRecord.scrubName, time: now - 300, tags: [OpsRecord.tag], extra: scrub.extra),
        ]
    }
}

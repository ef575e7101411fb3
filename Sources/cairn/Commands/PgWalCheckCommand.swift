import ArgumentParser
import CairnEngine
import CairnRepository
import CairnOps
import CairnPostgres
import Foundation

struct PgWalCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal-check",
        abstract: "The WAL archive's timelines, ranges and gaps, and whether each base backup is restorable (exit 1 on a gap).")

    @OptionGroup var pg: PgOptions
    @OptionGroup var options: RepositoryOptions

    func run() async throws {
        try pg.apply()
        let repo = try await options.open()
        let walName = pg.resolvedWALName
        let archive = WALArchive(repo: repo, name: walName)
        let bases = try BaseBackupRecord.all(in: repo, walName: walName)
        let inventory = try await WALInventory.load(archive, segmentSize: bases.last?.segmentSize)
        let planner = inventory.planner
        var backups: [PgBackupCheckJSON] = []
        for b in bases {
            do {
                let plan = try planner.plan(timeline: b.timeline, start: b.start, stop: b.stop, target: .latest)
                backups.append(PgBackupCheckJSON(snapshot_id: b.record.id.hex, time: Terminal.rfc3339(b.stopTimeNanos), system_id: b.systemID,
                                                 timeline: b.timeline, start_lsn: b.start.description, stop_lsn: b.stop.description,
                                                 restorable: plan.missing.isEmpty, missing: plan.missing,
                                                 recoverable_until: plan.missing.isEmpty ? plan.endTimeNanos.map(Terminal.rfc3339) : nil, problem: nil))
            } catch {
                backups.append(PgBackupCheckJSON(snapshot_id: b.record.id.hex, time: Terminal.rfc3339(b.stopTimeNanos), system_id: b.systemID,
                                                 timeline: b.timeline, start_lsn: b.start.description, stop_lsn: b.stop.description,
                                                 restorable: false, missing: [], recoverable_until: nil, problem: describe(error)))
            }
        }
        let timelines = inventory.timelines
        let histories = inventory.rows.map(\.file).filter { WALFileName($0)?.kind == .history }
        let ok = timelines.allSatisfy { $0.missing.isEmpty } && backups.allSatisfy(\.restorable)
        if options.json {
            Terminal.json(PgWalCheckJSON(wal_name: walName, files: inventory.rows.count, timelines: timelines, histories: histories,
                                         base_backups: backups, ok: ok))
        } else {
            Terminal.out("WAL archive \(walName.debugDescription): \(inventory.rows.count) files")
            if timelines.isEmpty { Terminal.out("  no segments archived") }
            for t in timelines {
                Terminal.out("  timeline \(t.timeline): \(t.first) … \(t.last), \(t.segments) segments" + (t.partial.isEmpty ? "" : ", \(t.partial.count) partial"))
                if !t.missing.isEmpty { Terminal.out("    GAP: \(t.missing.count) missing: \(t.missing.prefix(8).joined(separator: ", "))\(t.missing.count > 8 ? ", …" : "")") }
            }
            if !histories.isEmpty { Terminal.out("  history files: \(histories.joined(separator: ", "))") }
            for b in backups {
                let state = b.restorable ? "restorable until \(b.recoverable_until ?? "?")"
                    : "NOT restorable: " + (b.problem ?? "missing \(b.missing.prefix(4).joined(separator: ", "))\(b.missing.count > 4 ? ", …" : "")")
                Terminal.out("  base backup \(b.snapshot_id.prefix(8)) \(b.time) timeline \(b.timeline) \(b.start_lsn)–\(b.stop_lsn): \(state)")
            }
        }
        if !ok {
            throw CommandFailure.failed("the WAL archive has gaps or unrestorable base backups (see above)")
        }
    }
}

struct PgBackupCheckJSON: Encodable {
    let snapshot_id: String, time: String, system_id: String, timeline: UInt32, start_lsn: String, stop_lsn: String
    let restorable: Bool, missing: [String], recoverable_until: String?, problem: String?
}

struct PgWalCheckJSON: Encodable {
    let wal_name: String, files: Int, timelines: [WALInventory.TimelineSummary], histories: [String], base_backups: [PgBackupCheckJSON], ok: Bool
}

struct PgStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "The newest archived WAL segment and its age (the live RPO), and the newest base backup.")

    @OptionGroup var pg: PgOptions
    @OptionGroup var options: RepositoryOptions

    func run() async throws {
        try pg.apply()
        let repo = try await options.open()
        let walName = pg.resolvedWALName
        let (files, newest) = try WALArchive(repo: repo, name: walName).summary()
        let base = try BaseBackupRecord.all(in: repo, walName: walName).max { $0.stopTimeNanos < $1.stopTimeNanos }
        let now = Clock.nowNanos()
        let age = newest.map { Double(now - $0.timeNanos) / 1e9 }
        if options.json {
            Terminal.json(PgStatusJSON(wal_name: walName, files: files, newest_segment: newest?.file,
                                       newest_segment_time: newest.map { Terminal.rfc3339($0.timeNanos) }, newest_segment_age_seconds: age,
                                       newest_base_backup: base?.record.id.hex, newest_base_backup_time: base.map { Terminal.rfc3339($0.stopTimeNanos) }))
        } else if let newest, let age {
            Terminal.out("WAL archive \(walName.debugDescription): \(files) files; newest segment \(newest.file) archived \(Terminal.rfc3339(newest.timeNanos)) (\(String(format: "%.0f", age)) s ago)")
            Terminal.out(base.map { "newest base backup \($0.record.id.prefix(8)) finished \(Terminal.rfc3339($0.stopTimeNanos))" } ?? "no base backup")
        } else {
            Terminal.out("WAL archive \(walName.debugDescription): no segment archived yet")
            Terminal.out(base.map { "newest base backup \($0.record.id.prefix(8)) finished \(Terminal.rfc3339($0.stopTimeNanos))" } ?? "no base backup")
        }
    }
}

struct PgStatusJSON: Encodable {
    let wal_name: String, files: Int, newest_segment: String?, newest_segment_time: String?, newest_segment_age_seconds: Double?
    let newest_base_backup: String?, newest_base_backup_time: String?
}

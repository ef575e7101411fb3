import ArgumentParser
import CairnEngine
import CairnRepository
import CairnPostgres
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct PgRestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Point-in-time restore: a base backup into PGDATA, configured to replay archived WAL to the target.",
        discussion: "Checks that every WAL file from the base backup's start to the target is archived before writing anything. Start the server afterwards; it replays WAL through 'cairn wal-fetch'.")

    @OptionGroup var pg: PgOptions
    @OptionGroup var options: RepositoryOptions
    @OptionGroup var lockOptions: ReadLockOptions

    @Option(help: "The data directory to create (must be empty unless --force).")
    var pgdata: String

    @Option(help: "Recover to this time (RFC 3339, or PostgreSQL's '2026-01-31 02:00:00+00').")
    var targetTime: String?

    @Option(help: "Recover to this WAL position (like 0/3000060).")
    var targetLsn: String?

    @Flag(help: "Recover to the end of the archived WAL.")
    var latest = false

    @Option(help: "What the server does at the target: promote, pause or shutdown.")
    var targetAction = "promote"

    @Option(help: "Use this base backup (id or prefix) instead of the newest one before the target.")
    var snapshot: String?

    @Flag(help: "Leave archive_mode as the backup had it (by default the restored server does not archive into the production archive).")
    var keepArchiving = false

    @Flag(help: "Move the contents of a non-empty PGDATA aside (to PGDATA.before-restore-TIME) and restore.")
    var force = false

    func validate() throws {
        let given = [targetTime != nil, targetLsn != nil, latest].filter { $0 }.count
        guard given == 1 else { throw ValidationError("give exactly one of --target-time, --target-lsn, --latest") }
        if let t = targetTime, TargetTime.parse(t) == nil { throw ValidationError("--target-time \(t.debugDescription) is not a time like 2026-01-31T02:00:00Z") }
        if let l = targetLsn, LSN(l) == nil { throw ValidationError("--target-lsn \(l.debugDescription) is not a WAL position like 0/3000060") }
        guard PointInTimeRestore.Action(rawValue: targetAction) != nil else { throw ValidationError("--target-action must be promote, pause or shutdown") }
        guard !pgdata.isEmpty else { throw ValidationError("--pgdata must not be empty") }
    }

    func run() async throws {
        try pg.apply()
        guard let envFile = pg.resolvedEnvFile else {
            throw CairnError.invalidArgument("pg restore needs --env-file (or CAIRN_ENV_FILE): the restored server's restore_command reads the repository settings from it")
        }
        let target: WALPlanner.Target = latest ? .latest : targetLsn.flatMap { LSN($0) }.map { .lsn($0) } ?? .time(TargetTime.parse(targetTime ?? "") ?? 0)
        let repo = try await options.openForReading(operation: "pg restore", lockOptions: lockOptions)
        let walName = pg.resolvedWALName
        let command = [Self.shellQuote(Self.executablePath()), "wal-fetch", "--env-file", Self.shellQuote(envFile),
                       "--wal-name", Self.shellQuote(walName), "%f", "\"%p\""].joined(separator: " ")
        var req = PointInTimeRestore.Request(pgdata: pgdata.hasPrefix("/") ? pgdata : FileManager.default.currentDirectoryPath + "/" + pgdata,
                                             target: target, walName: walName, restoreCommand: command)
        req.action = PointInTimeRestore.Action(rawValue: targetAction) ?? .promote
        req.snapshot = snapshot
        req.keepArchiving = keepArchiving
        req.force = force
        let progress = WorkProgress()
        let o = try await ProgressLine.showing(progress, verb: "restoring", enabled: options.showProgress) {
            try await PointInTimeRestore(repo: repo).run(req, progress: progress)
        }
        for w in o.warnings { Terminal.warn(w) }
        if options.json {
            Terminal.json(PgRestoreJSON(base_snapshot: o.base.record.id.hex, pgdata: req.pgdata, timeline: o.plan.targetTimeline,
                                        wal_segments: o.plan.segments.count, first_segment: o.plan.segments.first ?? "",
                                        last_segment: o.plan.segments.last ?? "", files: o.files, bytes: o.bytes, moved_aside: o.movedAside))
        } else {
            if let m = o.movedAside { Terminal.info("moved the previous contents of \(req.pgdata) to \(m)") }
            Terminal.out("restored base backup \(o.base.record.id.prefix(8)) into \(req.pgdata) (\(o.files) files, \(Terminal.bytes(o.bytes))); recovery will replay \(o.plan.segments.count) archived WAL segment(s) \(o.plan.segments.first ?? "") … \(o.plan.segments.last ?? "") on timeline \(o.plan.targetTimeline). Start the server to recover.")
        }
    }

    static func shellQuote(_ s: String) -> String {
        s.allSatisfy({ $0.isLetter || $0.isNumber || "/-_.:=@".contains($0) }) ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// This program's absolute path (/proc/self/exe), for the restore_command.
    static func executablePath() -> String {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        if n > 0 { return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        return CommandLine.arguments.first ?? "cairn"
    }
}

struct PgRestoreJSON: Encodable {
    let base_snapshot: String, pgdata: String, timeline: UInt32, wal_segments: Int, first_segment: String, last_segment: String
    let files: UInt64, bytes: UInt64, moved_aside: String?
}

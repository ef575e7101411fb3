import CairnFormat
import CairnEngine
import CairnPlan
import CairnPostgres

/// The WAL archive PostgreSQL's `archive_command` (`cairn wal-push`) fills: `cairn run` has nothing
/// to run, and the drill of its base backups replays it.
struct PgWALSourceAdapter: SourceAdapter {
    var declaration: SourceDeclaration {
        // dbname: optional, the server whose pg_stat_archiver `cairn status` checks.
        var d = SourceDeclaration(kind: .pgWAL, keys: [.init("dbname", .string)])
        d.notScheduled = "pg-wal sources are filled by PostgreSQL's archive_command ('cairn wal-push'), not on a schedule; remove it"
        d.snapshotNameKey = "wal-name"
        d.defaultSnapshotName = "pg-wal"
        d.check = PostgresChecks.conninfoHasNoPassword
        return d
    }

    /// Archived WAL stays while a kept base backup needs it, whatever `forget`'s policy says.
    var separateRetention: SeparateRetention? { WALRetention.separateRetention }

    /// An archived WAL file was always cut with the `wal` profile.
    var unrecordedProfile: UnrecordedProfile? {
        UnrecordedProfile(profile: ChunkerProfileName.wal) { $0.sourceKind == .stream && $0.extra[WALArchive.Key.file] != nil }
    }

    func backup(_ s: PlanSource, waitLock: String) -> SourceBackup {
        .notRun("pg-wal is filled by archive_command (cairn wal-push)")
    }

    func drillSkipReason(_ s: PlanSource, in plan: Plan) -> String? {
        let bases = plan.sources.filter { $0.kind == .pgBaseBackup && $0.repository == s.repository }.map(\.name)
        return bases.isEmpty
            ? "a WAL archive is replayed by the drill of its base backups; add a pg-basebackup source for it"
            : "covered by the base backup + WAL replay drill of \(bases.joined(separator: ", "))"
    }

    func drill(_ d: DrillRequest) async throws -> String { "not drilled" }

    /// With a server to ask (its `dbname`, else that of a pg-basebackup source of the same
    /// repository): what pg_stat_archiver says, against what the previous status run saw.
    func statusProblem(_ s: PlanSource, in plan: Plan, stateDirectory: String) -> String? {
        guard let conninfo = s.dbname ?? plan.sources.first(where: { $0.kind == .pgBaseBackup && $0.repository == s.repository })?.dbname else {
            return nil
        }
        let status: ArchiverStatus
        do { status = try ArchiverStatus.query(conninfo: conninfo) } catch {
            return "cannot read pg_stat_archiver to check archive_command: \(error)"
        }
        let state = stateDirectory + "/archiver-\(s.name).json"
        var previous = ArchiverStatus.load(state)
        // Counters reset (a server restart, pg_stat_reset_shared): compare from here on.
        if let p = previous, p.failedCount > status.failedCount || p.archivedCount > status.archivedCount { previous = nil }
        defer { status.save(state) }
        return status.problem(previous: previous)
    }
}

extension SourceKind {
    /// The WAL archive PostgreSQL's `archive_command` (`cairn wal-push`) fills; `cairn run` only watches it.
    public static let pgWAL: SourceKind = "pg-wal"
}

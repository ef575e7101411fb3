import CairnFormat
import CairnPlan
import CairnPostgres

/// A logical dump: `cairn pg dump` (CairnPostgres's `LogicalDump`); the drill restores it into a
/// temporary PostgreSQL cluster and runs the plan's checks through libpq.
struct PgDumpSourceAdapter: SourceAdapter {
    var declaration: SourceDeclaration {
        var d = SourceDeclaration(kind: .pgDump, keys: [.init("dbname", .string, required: true), .init("pg-dump-args", .strings)])
        d.takesChecks = true
        d.check = PostgresChecks.conninfoHasNoPassword
        return d
    }

    func backup(_ s: PlanSource, waitLock: String) -> SourceBackup {
        .command(["pg", "dump", "--name", s.snapshotName, "--dbname", s.dbname ?? ""] + s.tags.flatMap { ["--tag", $0] } + ["--wait-lock", waitLock, "--json"]
                 + (s.pgDumpArguments.isEmpty ? [] : ["--"] + s.pgDumpArguments))
    }

    func drill(_ d: DrillRequest) async throws -> String {
        let s = d.source, snap = d.snapshot, env = d.environment, repo = d.repository, plan = d.plan
        let pg = try d.timer.run("start") { try TemporaryPostgres(scratch: d.scratch, bin: plan.drill.pgBin, user: plan.drill.pgUser) }
        defer { pg.stop() }
        try d.timer.run("restore") {
            try env.cairnChecked(["pg", "restore-dump", snap.id, "--dbname", pg.conninfo("postgres"), "--create"], repo,
                                 extraEnvironment: ["CAIRN_PG_BIN": pg.bin], "cairn pg restore-dump")
        }
        let database = snap.extra[.pgDatabase] ?? "postgres"
        return try d.timer.run("checks") {
            try PostgresChecks.run(s, plan: plan, database: database) { try PGConnection(pg.conninfo($0)) }
            return s.checks.isEmpty ? "restored into database \(database); no checks in the plan" : "restored into database \(database); \(s.checks.count) check(s) passed"
        }
    }
}

extension SourceKind {
    /// `cairn pg dump`: a logical `pg_dump -Fc -Z0` stream.
    public static let pgDump: SourceKind = "pg-dump"
}

extension PlanSource {
    /// pg-dump: extra pg_dump arguments.
    public var pgDumpArguments: [String] { settings.strings("pg-dump-args") }
}

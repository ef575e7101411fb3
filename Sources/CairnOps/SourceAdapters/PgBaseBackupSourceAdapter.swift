import CairnPlan
import CairnFormat
import CairnPostgres
import CairnStorage
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A base backup and its WAL archive: `cairn pg basebackup` (CairnPostgres); the drill is a
/// point-in-time restore to the end of the archive, replayed by a temporary server, promoted, and
/// the plan's checks.
struct PgBaseBackupSourceAdapter: SourceAdapter {
    var declaration: SourceDeclaration {
        var d = SourceDeclaration(kind: .pgBaseBackup, keys: [.init("dbname", .string, required: true), .init("pgdata", .string)])
        d.takesChecks = true
        d.check = PostgresChecks.conninfoHasNoPassword
        return d
    }

    func backup(_ s: PlanSource, waitLock: String) -> SourceBackup {
        .command(["pg", "basebackup", "--name", s.snapshotName, "--dbname", s.dbname ?? ""] + s.tags.flatMap { ["--tag", $0] } + ["--wait-lock", waitLock, "--json"]
                 + (s.pgdata.map { ["--pgdata", $0] } ?? []))
    }

    /// The point-in-time restore code (`--latest`, promote) writes a scratch PGDATA; every WAL segment the
    /// replay needs is fetched (hash-checked) into the scratch directory first, and the restore_command
    /// copies from there, so the temporary server (run as drill.pg-user when root) needs no repository
    /// access. Then replay to the end of the archive, promotion, and the plan's checks.
    func drill(_ d: DrillRequest) async throws -> String {
        let s = d.source, snap = d.snapshot, env = d.environment, repo = d.repository, plan = d.plan, timer = d.timer
        let dir = d.scratch + "/pg", pgdata = dir + "/data", walDir = dir + "/wal"
        let account = try TemporaryPostgres.serverAccount(plan.drill.pgUser)
        let bin = try TemporaryPostgres.binaries(configured: plan.drill.pgBin)
        for d in [dir, walDir] {
            try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
            chmod(d, 0o700)
            if let a = account { chown(d, a.uid, a.gid) }
        }
        let (req, pitr) = try await timer.run("fetch") { () async throws -> (PointInTimeRestore.Request, PointInTimeRestore) in
            let r = try await env.open(repo)
            guard let id = SnapshotID(hex: snap.id), let record = try r.snapshot(id: id), let base = BaseBackupRecord(record) else {
                throw DrillFailure("snapshot \(snap.id.prefix(8)) is not a complete base backup")
            }
            // Quoted for the shell PostgreSQL runs restore_command with.
            let quoted = "'" + walDir.replacingOccurrences(of: "'", with: "'\\''") + "'"
            var req = PointInTimeRestore.Request(pgdata: pgdata, target: .latest, walName: base.walName,
                                                 restoreCommand: "cp \(quoted)/%f \"%p\"")
            req.action = .promote
            req.snapshot = snap.id
            let pitr = PointInTimeRestore(repo: r)
            let (_, walPlan) = try await pitr.plan(req)
            try await WALArchive(repo: r, name: base.walName).fetchAll(walPlan.histories + walPlan.segments, into: walDir)
            if let a = account {
                for f in try DirectoryReader.stringNames(walDir) { chown(walDir + "/" + f, a.uid, a.gid) }
            }
            return (req, pitr)
        }
        let outcome = try await timer.run("restore") { try await pitr.run(req) }
        // Replay: start the server. pg_ctl -w returns when the postmaster reports "ready" or "standby":
        // with hot standby off the latter comes while WAL is still being replayed, and connections are
        // refused ("not accepting connections") until recovery ends and the server is promoted.
        let limit = Int(min(max(s.rto ?? 3600, 600) * 2, 86_400))
        let user = Conninfo.value(of: "user", in: s.dbname) ?? "postgres"
        let pg = try timer.run("replay") {
            let server = try TemporaryPostgres(restoredData: pgdata, dir: dir, bin: bin, user: plan.drill.pgUser, timeout: limit)
            let deadline = Date().addingTimeInterval(Double(limit))
            func connect() throws -> PGConnection {
                while true {
                    do {
                        return try PGConnection(server.conninfo("postgres", user: user))
                    } catch PostgresError.connection(let message) where message.contains("not accepting connections") || message.contains("starting up") {
                        guard Date() < deadline else { throw DrillFailure("the server was still in recovery after \(limit) s") }
                        usleep(100_000)
                    }
                }
            }
            let conn = try connect()
            while try conn.value("SELECT pg_is_in_recovery()::text") != "false" {
                guard Date() < deadline else { throw DrillFailure("the server was still in recovery after \(limit) s") }
                usleep(100_000)
            }
            return server
        }
        defer { pg.stop() }
        let replayed = "base backup \(outcome.base.record.id.prefix(8)) + \(outcome.plan.segments.count) WAL segment(s) to \(outcome.plan.segments.last ?? "its end") replayed, promoted"
        return try timer.run("checks") {
            try PostgresChecks.run(s, plan: plan) { try PGConnection(pg.conninfo($0, user: user)) }
            return s.checks.isEmpty ? "\(replayed); no checks in the plan" : "\(replayed); \(s.checks.count) check(s) passed"
        }
    }
}

extension SourceKind {
    /// `cairn pg basebackup`: a physical base backup for point-in-time recovery.
    public static let pgBaseBackup: SourceKind = "pg-basebackup"
}

extension PlanSource {
    /// pg-basebackup: the data directory when it differs from the server's.
    public var pgdata: String? { settings.string("pgdata") }
}

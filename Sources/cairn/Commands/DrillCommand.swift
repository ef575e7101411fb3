import ArgumentParser
import CairnEngine
import CairnFormat
import CairnOps
import CairnPlan
import CairnPostgres
import CairnRedis
import CairnRedisClient
import CairnStorage
import Foundation

/// `cairn drill`: restore the latest snapshot of each source into a scratch
/// area and prove it usable; the time it took is the measured RTO, recorded
/// in the source's repository for `status` and `report`.
struct DrillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill",
        abstract: "Restore each source's latest snapshot into a scratch area, prove it usable (servers, checks), record the RTO (exit 0 all passed, 1 not).")

    @OptionGroup var planOptions: PlanOptions

    @Option(name: .customLong("source"), help: "Drill this source only (repeatable; default: every source).")
    var sources: [String] = []

    @Flag(help: "Print one JSON document (times in RFC 3339 UTC).")
    var json = false

    @Flag(help: "Do not record the results in the repositories.")
    var noRecord = false

    func run() async throws {
        let plan = try planOptions.load()
        let ctx = OpsContext(plan: plan)
        var results: [OpsRecord.Drill] = []
        var skipped: [(String, String)] = []
        for s in try ctx.sources(named: sources) {
            guard let repo = plan.repository(named: s.repository) else { continue }
            switch s.kind {
            case .pgWAL:
                let bases = plan.sources.filter { $0.kind == .pgBaseBackup && $0.repository == s.repository }.map(\.name)
                skipped.append((s.name, bases.isEmpty
                    ? "a WAL archive is replayed by the drill of its base backups; add a pg-basebackup source for it"
                    : "covered by the base backup + WAL replay drill of \(bases.joined(separator: ", "))"))
                continue
            default: break
            }
            if !json { Terminal.info("drilling \(s.name) (\(s.kind.rawValue)) from \(repo.name)...") }
            var drill = await drillOne(s, repo, ctx)
            drill.time = Date().timeIntervalSince1970
            if !noRecord {
                do { try await ctx.record(name: OpsRecord.drillName(source: s.name), extra: drill.extra, in: repo) } catch {
                    Terminal.warn("could not record the drill of \(s.name) in \(repo.name): \(error)")
                }
            }
            results.append(drill)
        }
        if json {
            Terminal.json(DrillJSON(drills: results.map { d in
                .init(source: d.source, kind: d.kind, ok: d.ok, seconds: d.seconds, snapshot: d.snapshot, message: d.message,
                      phases: d.phases.map { .init(name: $0.name, seconds: $0.seconds) })
            }, skipped: skipped.map { .init(source: $0.0, reason: $0.1) }))
        } else {
            let nameW = max(20, (results.map(\.source.count) + skipped.map(\.0.count)).max() ?? 0)
            Terminal.out("\("SOURCE".padding(nameW)) RESULT  RTO       PHASES                                    DETAIL")
            for d in results {
                let rto = plan.source(named: d.source)?.rto
                let phases = d.phases.map { "\($0.name) \(PlanDuration.format(seconds: $0.seconds))" }.joined(separator: ", ")
                let verdict = d.ok ? (rto.map { d.seconds <= Double($0) ? "ok" : "SLOW" } ?? "ok") : "FAILED"
                Terminal.out("\(d.source.padding(nameW)) \(verdict.padding(7)) \(PlanDuration.format(seconds: d.seconds).padding(9)) \(phases.padding(41)) \(d.message)")
            }
            for (n, why) in skipped { Terminal.out("\(n.padding(nameW)) skipped                                             \(why)") }
        }
        if results.contains(where: { !$0.ok }) { throw ExitCode(ExitStatus.failure) }
    }

    /// Runs the drill of one source; failures become a failed drill naming the phase.
    private func drillOne(_ s: PlanSource, _ repo: PlanRepository, _ ctx: OpsContext) async -> OpsRecord.Drill {
        let timer = PhaseTimer()
        var snapshotID = ""
        do {
            let snap: OpsSnapshot
            do {
                let r = try await ctx.open(repo)
                guard let newest = try r.snapshots(name: s.snapshotName).max(by: { $0.snapshot.timeNanos < $1.snapshot.timeNanos }) else {
                    throw DrillFailure("no snapshot named \(s.snapshotName) in \(repo.name) to drill")
                }
                snap = OpsSnapshot(newest)
            } catch let e as DrillFailure { throw e } catch { throw DrillFailure("open \(repo.name): \(error)") }
            snapshotID = snap.id
            let scratch = try ScratchDirectory(under: ctx.plan.drill.scratchDir)
            let message: String
            switch s.kind {
            case .tree: message = try drillTree(s, repo, ctx, scratch.path, timer)
            case .command: message = try drillStream(s, repo, ctx, snap, scratch.path, timer)
            case .redis: message = try drillRedis(s, repo, ctx, snap, scratch.path, timer)
            case .pgDump: message = try drillDump(s, repo, ctx, snap, scratch.path, timer)
            case .pgBaseBackup: message = try await drillBaseBackup(s, repo, ctx, snap, scratch.path, timer)
            case .pgWAL: message = "not drilled"
            }
            return OpsRecord.Drill(source: s.name, kind: s.kind.rawValue, ok: true, phases: timer.phases, snapshot: snapshotID, message: message)
        } catch {
            return OpsRecord.Drill(source: s.name, kind: s.kind.rawValue, ok: false, phases: timer.phases, snapshot: snapshotID, message: "\(error)")
        }
    }

    private func checked(_ r: ChildResult, _ what: String) throws {
        guard r.status == 0 else { throw DrillFailure("\(what) exited \(r.status): \(r.lastErrorLine)") }
    }

    /// A tree: restore it, then compare every entry of the manifest (`cairn ls`) with what is on disk.
    private func drillTree(_ s: PlanSource, _ repo: PlanRepository, _ ctx: OpsContext, _ scratch: String, _ timer: PhaseTimer) throws -> String {
        let target = scratch + "/tree"
        try timer.run("restore") {
            try checked(try ctx.cairn(["restore", "latest", "--name", s.snapshotName, "--target", target], repo), "cairn restore")
        }
        return try timer.run("compare") {
            let ls = try ctx.cairn(["ls", "latest", "--name", s.snapshotName, "--json"], repo)
            try checked(ls, "cairn ls")
            return try RestoredTreeCheck.compare(manifest: ls.stdout, restoredAt: target).description
        }
    }

    /// A stream (command output): restore it whole; its length must be the snapshot's.
    private func drillStream(_ s: PlanSource, _ repo: PlanRepository, _ ctx: OpsContext, _ snap: OpsSnapshot, _ scratch: String, _ timer: PhaseTimer) throws -> String {
        let out = scratch + "/stream"
        try timer.run("restore") {
            try checked(try ctx.cairn(["restore", snap.id, "--stdout"], repo, stdoutPath: out), "cairn restore --stdout")
        }
        return try timer.run("compare") {
            let size = (try FileManager.default.attributesOfItem(atPath: out)[.size] as? NSNumber)?.uint64Value ?? 0
            guard size == snap.logicalBytes else { throw DrillFailure("restored \(size) bytes, the snapshot recorded \(snap.logicalBytes)") }
            return "\(Terminal.bytes(size)) restored, every chunk verified"
        }
    }

    /// An RDB: restore it (validated), load it into a temporary redis-server, compare the key count.
    private func drillRedis(_ s: PlanSource, _ repo: PlanRepository, _ ctx: OpsContext, _ snap: OpsSnapshot, _ scratch: String, _ timer: PhaseTimer) throws -> String {
        let rdb = scratch + "/redis/dump.rdb"
        try FileManager.default.createDirectory(atPath: scratch + "/redis", withIntermediateDirectories: true)
        try timer.run("restore") {
            try checked(try ctx.cairn(["redis", "restore", snap.id, "--target", rdb], repo), "cairn redis restore")
        }
        let server = try timer.run("load") { try TemporaryRedis(rdb: rdb, server: ctx.plan.drill.redisServer) }
        defer { server.stop() }
        return try timer.run("checks") {
            let loaded = RedisKeyspace.keyCount(info: try server.command(["INFO", "keyspace"]))
            var sampled = 0
            for _ in 0..<min(5, Int(loaded)) {
                let key = try server.command(["RANDOMKEY"])
                guard !key.isEmpty else { break }
                sampled += 1
            }
            if let recorded = snap.extra[.redisKeys].flatMap(UInt64.init) {
                let expiring = snap.extra[.redisKeysWithExpiry].flatMap(UInt64.init) ?? 0
                guard RedisKeyspace.loadMatches(loaded: loaded, recorded: recorded, expiring: expiring) else {
                    throw DrillFailure("redis-server loaded \(loaded) keys, the backup recorded \(recorded) (\(expiring) with a TTL)")
                }
                return "\(loaded) of \(recorded) recorded keys loaded, \(sampled) sampled"
            }
            return "\(loaded) keys loaded (the backup recorded no count), \(sampled) sampled"
        }
    }

    /// A base backup and its WAL archive: the point-in-time restore code (`--latest`, promote) writes a scratch
    /// PGDATA; every WAL segment the replay needs is fetched (hash-checked) into the scratch directory first, and
    /// the restore_command copies from there, so the temporary server (run as drill.pg-user when root) needs no
    /// repository access. Then replay to the end of the archive, promotion, and the plan's checks.
    private func drillBaseBackup(_ s: PlanSource, _ repo: PlanRepository, _ ctx: OpsContext, _ snap: OpsSnapshot, _ scratch: String, _ timer: PhaseTimer) async throws -> String {
        let dir = scratch + "/pg", pgdata = dir + "/data", walDir = dir + "/wal"
        let account = try TemporaryPostgres.serverAccount(ctx.plan.drill.pgUser)
        let bin = try TemporaryPostgres.binaries(configured: ctx.plan.drill.pgBin)
        for d in [dir, walDir] {
            try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
            chmod(d, 0o700)
            if let a = account { chown(d, a.uid, a.gid) }
        }
        let (req, pitr) = try await timer.run("fetch") { () async throws -> (PointInTimeRestore.Request, PointInTimeRestore) in
            let r = try await ctx.open(repo)
            guard let record = try r.snapshot(id: snap.id), let base = BaseBackupRecord(record) else {
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
        let pg = try timer.run("replay") {
            let server = try TemporaryPostgres(restoredData: pgdata, dir: dir, bin: bin, user: ctx.plan.drill.pgUser, timeout: limit)
            let deadline = Date().addingTimeInterval(Double(limit))
            func connect() throws -> PGConnection {
                while true {
                    do {
                        return try PGConnection(server.conninfo("postgres", user: Conninfo.value(of: "user", in: s.dbname) ?? "postgres"))
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
        let user = Conninfo.value(of: "user", in: s.dbname) ?? "postgres"
        let replayed = "base backup \(outcome.base.record.id.prefix(8)) + \(outcome.plan.segments.count) WAL segment(s) to \(outcome.plan.segments.last ?? "its end") replayed, promoted"
        return try timer.run("checks") {
            try runChecks(s, ctx) { try PGConnection(pg.conninfo($0, user: user)) }
            return s.checks.isEmpty ? "\(replayed); no checks in the plan" : "\(replayed); \(s.checks.count) check(s) passed"
        }
    }

    /// The plan's `[[source.NAME.check]]`s, each on a connection to its database (default `database`).
    private func runChecks(_ s: PlanSource, _ ctx: OpsContext, database: String? = nil, _ connect: (String) throws -> PGConnection) throws {
        let fallback = database ?? Conninfo.value(of: "dbname", in: s.dbname) ?? "postgres"
        for c in s.checks {
            let label = "check \(c.name.debugDescription) (\(ctx.plan.file):\(c.line))"
            let rows: [[String?]]
            do {
                rows = try connect(c.database ?? fallback).query(c.sql)
            } catch {
                throw DrillFailure("\(label) failed: \(error)")
            }
            let value = rows.first?.first ?? nil
            guard c.expect.holds(value: value, rowCount: rows.count) else {
                throw DrillFailure("\(label) expected \(c.expect) but got \(value.map { $0.debugDescription } ?? "no value") (\(rows.count) row(s))")
            }
        }
    }

    /// A pg_dump: restore it into a temporary PostgreSQL cluster, then run the plan's checks through libpq.
    private func drillDump(_ s: PlanSource, _ repo: PlanRepository, _ ctx: OpsContext, _ snap: OpsSnapshot, _ scratch: String, _ timer: PhaseTimer) throws -> String {
        let pg = try timer.run("start") { try TemporaryPostgres(scratch: scratch, bin: ctx.plan.drill.pgBin, user: ctx.plan.drill.pgUser) }
        defer { pg.stop() }
        try timer.run("restore") {
            let r = try ctx.cairn(["pg", "restore-dump", snap.id, "--dbname", pg.conninfo("postgres"), "--create"], repo,
                                  extraEnvironment: ["CAIRN_PG_BIN": pg.bin])
            try checked(r, "cairn pg restore-dump")
        }
        let database = snap.extra[.pgDatabase] ?? "postgres"
        return try timer.run("checks") {
            try runChecks(s, ctx, database: database) { try PGConnection(pg.conninfo($0)) }
            return s.checks.isEmpty ? "restored into database \(database); no checks in the plan" : "restored into database \(database); \(s.checks.count) check(s) passed"
        }
    }
}

struct DrillFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

struct DrillJSON: Encodable {
    struct Phase: Encodable { let name: String, seconds: Double }
    struct Drill: Encodable { let source: String, kind: String, ok: Bool, seconds: Double, snapshot: String, message: String, phases: [Phase] }
    struct Skipped: Encodable { let source: String, reason: String }
    let drills: [Drill], skipped: [Skipped]
}

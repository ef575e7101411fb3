import CairnEngine
import CairnStorage
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `cairn pg restore`: picks a base backup, proves the WAL from its start to
/// the target is archived and continuous (before touching the data
/// directory), materialises the data directory, and configures recovery the
/// PostgreSQL 12+ way: `recovery.signal` plus settings in
/// `postgresql.auto.conf` (never `recovery.conf`, which 12+ refuses).
public struct PointInTimeRestore {
    public enum Action: String, Sendable { case promote, pause, shutdown }

    public struct Request: Sendable {
        public var pgdata: String
        public var target: WALPlanner.Target
        public var action: Action = .promote
        /// A snapshot id (or prefix) to use instead of choosing one.
        public var snapshot: String? = nil
        public var walName: String
        /// The `restore_command` to write, with `%f` and `%p`.
        public var restoreCommand: String
        public var keepArchiving = false
        public var force = false
        public init(pgdata: String, target: WALPlanner.Target, walName: String, restoreCommand: String) {
            self.pgdata = pgdata; self.target = target; self.walName = walName; self.restoreCommand = restoreCommand
        }
    }

    public struct Outcome: Sendable {
        public var base: BaseBackupRecord
        public var plan: WALPlanner.Plan
        public var files: UInt64
        public var bytes: UInt64
        public var movedAside: String?
    }

    public let repo: Repository
    public init(repo: Repository) { self.repo = repo }

    /// Chooses the base backup and checks the WAL; writes nothing.
    public func plan(_ req: Request) async throws -> (BaseBackupRecord, WALPlanner.Plan) {
        let archive = WALArchive(repo: repo, name: req.walName)
        var bases = try BaseBackupRecord.all(in: repo, walName: req.walName)
        guard !bases.isEmpty else {
            throw PostgresError.noBaseBackup("no base backup relies on the WAL archive \(req.walName.debugDescription): take one with 'cairn pg basebackup'")
        }
        let base: BaseBackupRecord
        if let spec = req.snapshot {
            let r = try repo.resolveSnapshot(spec)
            guard let b = BaseBackupRecord(r) else { throw PostgresError.noBaseBackup("snapshot \(r.id.prefix(8)) is not a complete base backup") }
            base = b
        } else {
            let inventory = try await WALInventory.load(archive)
            // The archive's system: that of its newest segment.
            if let sys = inventory.newestSegment?.systemID, !sys.isEmpty { bases = bases.filter { $0.systemID == sys } }
            let eligible: [BaseBackupRecord]
            switch req.target {
            case .latest: eligible = bases
            case .time(let t): eligible = bases.filter { $0.stopTimeNanos < t }
            case .lsn(let l): eligible = bases.filter { $0.stop <= l }
            }
            guard let newest = eligible.max(by: { $0.stopTimeNanos < $1.stopTimeNanos }) else {
                throw PostgresError.noBaseBackup("no base backup of this system finished before the target; the oldest finished \(bases.first.map { WALPlanner.describeTime($0.stopTimeNanos) } ?? "never")")
            }
            base = newest
        }
        let inventory = try await WALInventory.load(archive, segmentSize: base.segmentSize)
        if case .time(let t) = req.target, t < base.stopTimeNanos {
            throw PostgresError.targetBeforeBackup(target: WALPlanner.describeTime(t), backupEnd: WALPlanner.describeTime(base.stopTimeNanos))
        }
        let plan = try inventory.planner.plan(timeline: base.timeline, start: base.start, stop: base.stop, target: req.target)
        guard plan.missing.isEmpty else {
            throw PostgresError.walGap(missing: plan.missing, needed: "from base backup \(base.record.id.prefix(8))'s start \(base.start) on timeline \(base.timeline) to the target")
        }
        return (base, plan)
    }

    /// Plans, then writes the data directory and the recovery settings.
    public func run(_ req: Request, progress: WorkProgress = WorkProgress()) async throws -> Outcome {
        let (base, plan) = try await plan(req)
        let pgdata = req.pgdata
        var movedAside: String? = nil
        var st = stat()
        if stat(pgdata, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFDIR else { throw PostgresError.pgdata("\(pgdata) exists and is not a directory") }
            let entries = try DirectoryReader.stringNames(pgdata)
            if entries.contains("postmaster.pid") {
                throw PostgresError.pgdata("\(pgdata)/postmaster.pid exists: stop the server first (pg_ctl stop / systemctl stop postgresql@15-main)")
            }
            if !entries.isEmpty {
                guard req.force else {
                    throw PostgresError.pgdata("\(pgdata) is not empty: restore into an empty directory, or pass --force to move its contents aside first")
                }
                let aside = pgdata.hasSuffix("/") ? String(pgdata.dropLast()) : pgdata
                let dest = aside + ".before-restore-" + String(Clock.nowNanos() / 1_000_000_000)
                try FileSystemOps.makeDirectory(dest, mode: 0o700)
                for e in entries { try FileSystemOps.rename(pgdata + "/" + e, dest + "/" + e) }
                movedAside = dest
            }
        } else {
            try FileSystemOps.makeDirectory(pgdata, mode: 0o700, parents: true)
            guard stat(pgdata, &st) == 0 else { throw PostgresError.pgdata("cannot create \(pgdata)") }
            // A new data directory belongs to the owner of its parent (the postgres user's tree).
            var parent = stat()
            let parentPath = (pgdata as NSString).deletingLastPathComponent
            if geteuid() == 0, stat(parentPath.isEmpty ? "." : parentPath, &parent) == 0 {
                _ = chown(pgdata, parent.st_uid, parent.st_gid)
                st.st_uid = parent.st_uid; st.st_gid = parent.st_gid
            }
        }
        let files: UInt64, bytes: UInt64
        if base.isTarStream {
            // A streamed base backup: pg_basebackup's tar stream, unpacked straight into PGDATA.
            let extractor = PGDataTarExtractor(root: pgdata)
            _ = try await Restorer(repo: repo, snapshot: base.record, progress: progress).restoreSingleFile { try extractor.feed($0) }
            try extractor.finish()
            files = extractor.files; bytes = extractor.bytes
        } else {
            // Restore into a staging directory inside PGDATA, then move the data directory's entries up.
            let staging = pgdata + "/.cairn-restore"
            let result = try await Restorer(repo: repo, snapshot: base.record, progress: progress).restore(to: staging)
            let tops = try DirectoryReader.stringNames(staging)
            guard tops.count == 1, let top = tops.first else {
                throw PostgresError.pgdata("base backup \(base.record.id.prefix(8)) does not hold exactly one data directory")
            }
            for e in try DirectoryReader.stringNames(staging + "/" + top) {
                try FileSystemOps.rename(staging + "/" + top + "/" + e, pgdata + "/" + e)
            }
            rmdir(staging + "/" + top); rmdir(staging)
            files = result.files; bytes = result.bytes
        }
        // pg_wal empty but with archive_status; the other emptied directories exist.
        for d in PGDataExclusions.emptiedDirectories.sorted() + ["pg_wal/archive_status"] {
            try FileSystemOps.makeDirectory(pgdata + "/" + d, mode: 0o700)
        }
        try writeRecoverySettings(req, base: base)
        try FileSystemOps.writeFile(pgdata + "/recovery.signal", "")
        chmod(pgdata, 0o700)
        if geteuid() == 0 { try FileSystemOps.chownTree(pgdata, uid: st.st_uid, gid: st.st_gid) }
        return Outcome(base: base, plan: plan, files: files, bytes: bytes, movedAside: movedAside)
    }

    /// Appends the recovery settings to `postgresql.auto.conf` (later lines win in PostgreSQL).
    func writeRecoverySettings(_ req: Request, base: BaseBackupRecord) throws {
        func q(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }
        var lines = ["", "# Added by 'cairn pg restore' from base backup \(base.record.id.prefix(8)) at \(WALPlanner.describeTime(Clock.nowNanos())).",
                     "# Remove these lines (or run ALTER SYSTEM RESET) once recovery has finished.",
                     "restore_command = \(q(req.restoreCommand))",
                     "recovery_target_timeline = 'latest'"]
        switch req.target {
        case .latest: break
        case .time(let t):
            lines.append("recovery_target_time = \(q(Self.postgresTime(t)))")
            lines.append("recovery_target_action = \(q(req.action.rawValue))")
        case .lsn(let l):
            lines.append("recovery_target_lsn = \(q(l.description))")
            lines.append("recovery_target_action = \(q(req.action.rawValue))")
        }
        if !req.keepArchiving {
            lines.append("# The restored server must not archive into the production WAL archive.")
            lines.append("archive_mode = 'off'")
        }
        let path = req.pgdata + "/postgresql.auto.conf"
        let old = FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? "# Do not edit this file manually!\n# It will be overwritten by the ALTER SYSTEM command.\n"
        try FileSystemOps.writeFile(path, old + (old.hasSuffix("\n") || old.isEmpty ? "" : "\n") + lines.joined(separator: "\n") + "\n")
    }

    /// `2026-01-31 02:00:00.123456+00`: what `recovery_target_time` takes, with a numeric UTC offset.
    public static func postgresTime(_ nanos: Int64) -> String {
        let secs = nanos / 1_000_000_000
        let micros = (nanos % 1_000_000_000) / 1000
        let iso = WALPlanner.describeTime(nanos)  // 2026-01-31T02:00:00Z
        let day = iso.prefix(10), time = iso.dropFirst(11).prefix(8)
        _ = secs
        let frac = String(micros)
        return "\(day) \(time).\(String(repeating: "0", count: 6 - frac.count))\(frac)+00"
    }
}

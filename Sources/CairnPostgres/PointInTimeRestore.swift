import CairnEngine
import CairnRepository
import CairnStorage
import CairnSystem
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
        /// What was replaced in the data directory (a link where a directory belongs).
        public var warnings: [String] = []
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
        let (movedAside, st) = try Self.prepareDataDirectory(pgdata, force: req.force)
        // From here on everything is written through descriptors of PGDATA: nothing the
        // base backup holds (a link, a '..' name) can send a write or a chown outside.
        let target = try DirectoryHandle.openTarget(pgdata)
        let owner: (uid: UInt32, gid: UInt32)? = geteuid() == 0 ? (st.st_uid, st.st_gid) : nil
        let restored = try await restoreData(base, into: target, pgdata: pgdata, owner: owner, progress: progress)
        var warnings = restored.warnings
        warnings += try Self.makeEmptiedDirectories(in: target, pgdata: pgdata, owner: owner)
        warnings += try writeRecoverySettings(req, base: base, in: target, owner: owner)
        try Self.writeFile("recovery.signal", [], in: target, pgdata: pgdata, owner: owner)
        fchmod(target.fd, 0o700)
        if let owner, fchown(target.fd, owner.uid, owner.gid) != 0 {
            throw PostgresError.pgdata("cannot set the owner of \(pgdata): \(String(cString: strerror(errno)))")
        }
        do { try target.syncFileSystem() } catch { throw PostgresError.pgdata("\(error)") }
        return Outcome(base: base, plan: plan, files: restored.files, bytes: restored.bytes, movedAside: movedAside, warnings: warnings)
    }

    /// PGDATA made ready: refused while a server runs in it; a non-empty one refused, or with
    /// `force` its entries moved aside (returned: where to); a missing one made, owned like its
    /// parent. Returns its `stat` (whose owner the restored files get when run as root).
    static func prepareDataDirectory(_ pgdata: String, force: Bool) throws -> (movedAside: String?, stat: stat) {
        var st = stat()
        guard stat(pgdata, &st) == 0 else {
            try FileSystemOps.makeDirectory(pgdata, mode: 0o700, parents: true)
            guard stat(pgdata, &st) == 0 else { throw PostgresError.pgdata("cannot create \(pgdata)") }
            // A new data directory belongs to the owner of its parent (the postgres user's tree).
            var parent = stat()
            let parentPath = (pgdata as NSString).deletingLastPathComponent
            if geteuid() == 0, stat(parentPath.isEmpty ? "." : parentPath, &parent) == 0 {
                _ = chown(pgdata, parent.st_uid, parent.st_gid)
                st.st_uid = parent.st_uid; st.st_gid = parent.st_gid
            }
            return (nil, st)
        }
        guard (st.st_mode & S_IFMT) == S_IFDIR else { throw PostgresError.pgdata("\(pgdata) exists and is not a directory") }
        let entries = try DirectoryReader.stringNames(pgdata)
        if entries.contains("postmaster.pid") {
            throw PostgresError.pgdata("\(pgdata)/postmaster.pid exists: stop the server first (pg_ctl stop / systemctl stop postgresql@15-main)")
        }
        guard !entries.isEmpty else { return (nil, st) }
        guard force else {
            throw PostgresError.pgdata("\(pgdata) is not empty: restore into an empty directory, or pass --force to move its contents aside first")
        }
        let aside = pgdata.hasSuffix("/") ? String(pgdata.dropLast()) : pgdata
        let dest = aside + ".before-restore-" + String(Clock.nowNanos() / 1_000_000_000)
        try FileSystemOps.makeDirectory(dest, mode: 0o700)
        for e in entries { try FileSystemOps.rename(pgdata + "/" + e, dest + "/" + e) }
        return (dest, st)
    }

    /// The base backup's files written into `target` (PGDATA): a tar stream unpacked, or a
    /// tree restored into a staging directory inside PGDATA and its data directory's entries moved up.
    func restoreData(_ base: BaseBackupRecord, into target: DirectoryHandle, pgdata: String, owner: (uid: UInt32, gid: UInt32)?,
                     progress: WorkProgress) async throws -> (files: UInt64, bytes: UInt64, warnings: [String]) {
        if base.isTarStream {
            // A streamed base backup: pg_basebackup's tar stream, unpacked straight into PGDATA.
            let extractor = PGDataTarExtractor(root: target, owner: owner)
            _ = try await Restorer(repo: repo, snapshot: base.record, progress: progress).restoreSingleFile { try extractor.feed($0) }
            try extractor.finish()
            return (extractor.files, extractor.bytes, [])
        }
        let stagingName = Array(".cairn-restore".utf8)
        let staging = try target.subdirectory(stagingName, display: pgdata + "/.cairn-restore", replacing: false).0
        var restorer = Restorer(repo: repo, snapshot: base.record, progress: progress)
        restorer.owner = owner
        let result = try await restorer.restore(into: staging)
        guard let tops = DirectoryReader.names(directoryFD: staging.fd), tops.count == 1, let topName = tops.first else {
            throw PostgresError.pgdata("base backup \(base.record.id.prefix(8)) does not hold exactly one data directory")
        }
        let top = try staging.openSubdirectory(topName, display: "the base backup's data directory")
        guard let entries = DirectoryReader.names(directoryFD: top.fd) else {
            throw PostgresError.pgdata("cannot list the restored data directory: \(String(cString: strerror(errno)))")
        }
        for e in entries {
            let moved = (e + [0]).withUnsafeBufferPointer { p in
                p.withMemoryRebound(to: CChar.self) { renameat(top.fd, $0.baseAddress!, target.fd, $0.baseAddress!) }
            }
            guard moved == 0 else {
                throw PostgresError.pgdata("cannot move \(String(decoding: e, as: UTF8.self)) into \(pgdata): \(String(cString: strerror(errno)))")
            }
        }
        (topName + [0]).withUnsafeBufferPointer { p in p.withMemoryRebound(to: CChar.self) { _ = unlinkat(staging.fd, $0.baseAddress!, AT_REMOVEDIR) } }
        _ = unlinkat(target.fd, ".cairn-restore", AT_REMOVEDIR)
        return (result.files, result.bytes, result.warnings)
    }

    /// pg_wal empty but with archive_status; the other directories a base backup leaves empty made.
    static func makeEmptiedDirectories(in target: DirectoryHandle, pgdata: String, owner: (uid: UInt32, gid: UInt32)?) throws -> [String] {
        var warnings: [String] = []
        for d in PGDataExclusions.emptiedDirectories.sorted() + ["pg_wal/archive_status"] {
            var at = target
            for c in d.split(separator: "/") {
                let (sub, replaced) = try at.subdirectory(Array(c.utf8), display: pgdata + "/" + d)
                if let replaced { warnings.append(replaced) }
                if let owner, fchown(sub.fd, owner.uid, owner.gid) != 0 {
                    throw PostgresError.pgdata("cannot set the owner of \(pgdata)/\(d): \(String(cString: strerror(errno)))")
                }
                at = sub
            }
        }
        return warnings
    }

    /// Appends the recovery settings to `postgresql.auto.conf` (later lines win
    /// in PostgreSQL); returns a warning when the file was not a regular file.
    func writeRecoverySettings(_ req: Request, base: BaseBackupRecord, in target: DirectoryHandle, owner: (uid: UInt32, gid: UInt32)?) throws -> [String] {
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
        let name = "postgresql.auto.conf"
        var warnings: [String] = []
        var old = "# Do not edit this file manually!\n# It will be overwritten by the ALTER SYSTEM command.\n"
        if let st = target.entry(Array(name.utf8)) {
            if (st.st_mode & S_IFMT) == S_IFREG {
                old = String(decoding: try Self.readSmallFile(name, in: target, pgdata: req.pgdata), as: UTF8.self)
            } else {
                warnings.append("\(req.pgdata)/\(name): replaced the \(st.st_mode & S_IFMT == S_IFLNK ? "symbolic link" : "entry") that the base backup holds with a new file (not followed)")
            }
        }
        let text = old + (old.hasSuffix("\n") || old.isEmpty ? "" : "\n") + lines.joined(separator: "\n") + "\n"
        try Self.writeFile(name, Array(text.utf8), in: target, pgdata: req.pgdata, owner: owner)
        return warnings
    }

    /// The largest `postgresql.auto.conf` read back (it holds a few settings).
    static let settingsFileLimit = 1 << 20

    /// Reads a small regular file of PGDATA without following a link.
    static func readSmallFile(_ name: String, in dir: DirectoryHandle, pgdata: String) throws -> [UInt8] {
        let fd = openat(dir.fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw PostgresError.pgdata("cannot read \(pgdata)/\(name): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n: Int
            do { n = try buf.withUnsafeMutableBytes { (b) in try FileDescriptorIO.read(fd, into: b) } } catch {
                throw PostgresError.pgdata("cannot read \(pgdata)/\(name): \(error)")
            }
            if n == 0 { return out }
            out += buf[0..<n]
            guard out.count <= settingsFileLimit else { throw PostgresError.pgdata("\(pgdata)/\(name) is larger than \(settingsFileLimit) bytes: not a settings file") }
        }
    }

    /// Writes a whole file of PGDATA (unnamed, synced, then named; replacing a link, never following it).
    static func writeFile(_ name: String, _ bytes: [UInt8], in dir: DirectoryHandle, pgdata: String, owner: (uid: UInt32, gid: UInt32)?) throws {
        let display = pgdata + "/" + name
        let file = try dir.newFile(display: display)
        do {
            try writeAll(file.fd, bytes, path: display)
            if let owner, fchown(file.fd, owner.uid, owner.gid) != 0 { throw PostgresError.pgdata("cannot set the owner of \(display): \(String(cString: strerror(errno)))") }
            guard fsync(file.fd) == 0 else { throw PostgresError.pgdata("cannot sync \(display): \(String(cString: strerror(errno)))") }
        } catch {
            dir.discard(file)
            throw error
        }
        defer { close(file.fd) }
        try dir.commit(file, as: Array(name.utf8), display: display)
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

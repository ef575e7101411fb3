import CairnPlan

/// The `cairn` arguments that back up a source (nil: nothing to run, with the reason).
public enum BackupInvocation {
    public static func arguments(for s: PlanSource, waitLock: String = "10m") -> Result<[String], OpsError> {
        let tags = s.tags.flatMap { ["--tag", $0] }
        switch s.kind {
        case .tree:
            return .success(["backup"] + s.paths + ["--name", s.snapshotName] + tags + s.exclude.flatMap { ["--exclude", $0] }
                            + (s.oneFileSystem ? ["--one-file-system"] : []) + ["--wait-lock", waitLock, "--json"])
        case .command:
            return .success(["backup", "--stdin-from-command", "--name", s.snapshotName] + tags + ["--wait-lock", waitLock, "--json", "--"] + s.command)
        case .pgDump:
            return .success(["pg", "dump", "--name", s.snapshotName, "--dbname", s.dbname ?? ""] + tags + ["--wait-lock", waitLock, "--json"]
                            + (s.pgDumpArguments.isEmpty ? [] : ["--"] + s.pgDumpArguments))
        case .pgBaseBackup:
            return .success(["pg", "basebackup", "--name", s.snapshotName, "--dbname", s.dbname ?? ""] + tags + ["--wait-lock", waitLock, "--json"]
                            + (s.pgdata.map { ["--pgdata", $0] } ?? []))
        case .redis:
            var a = ["redis", "backup", "--name", s.snapshotName] + tags + ["--wait-lock", waitLock, "--json"]
            if let u = s.redisURL { a += ["--url", u] }
            if let f = s.rdbFile { a += ["--file", f] }
            if let p = s.redisPasswordFile { a += ["--redis-password-file", p] }
            if s.redisAllowNoChecksum { a.append("--allow-no-checksum") }
            return .success(a)
        case .pgWAL:
            return .failure(.failed("filled continuously by PostgreSQL's archive_command (cairn wal-push); nothing to run"))
        }
    }
}

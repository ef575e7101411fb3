import ArgumentParser
import CairnEngine
import CairnRepository
import CairnOps
import CairnPlan
import Foundation

/// What plan-driven commands share: opening a plan repository, reading what
/// it holds, running `cairn` itself against it, and recording drill and scrub
/// results in it.
struct OpsContext {
    let plan: Plan

    /// The repository options a plan repository stands for (URL and passphrase file; no secret on any command line).
    func options(_ r: PlanRepository) throws -> RepositoryOptions {
        try RepositoryOptions.parse(["--repo", r.url, "--password-file", r.passwordFile])
    }

    func cacheBase(_ r: PlanRepository) throws -> String {
        try r.cacheDir ?? options(r).cacheBase()
    }

    /// The environment a child `cairn` gets for repository `r`.
    func environment(_ r: PlanRepository) throws -> [String: String] {
        var env = ["CAIRN_REPO": r.url, "CAIRN_PASSWORD_FILE": r.passwordFile]
        env["CAIRN_CACHE_DIR"] = try cacheBase(r)
        return env
    }

    /// Runs this cairn binary with `arguments` against repository `r`.
    func cairn(_ arguments: [String], _ r: PlanRepository, stdoutPath: String? = nil, extraEnvironment: [String: String] = [:],
               maintenance: Bool = false) throws -> ChildResult {
        var env = try environment(r).merging(extraEnvironment) { $1 }
        var remove = ["CAIRN_PASSWORD", "CAIRN_ENV_FILE", "CAIRN_TO_PASSWORD", "CAIRN_TO_PASSWORD_FILE"]
        if maintenance, let file = r.maintenanceCredentials {
            // Deleting and extending locks needs the maintenance credentials (Docs/immutability.md):
            // their file's [default] profile, never the host's append-only keys from the environment.
            env["AWS_SHARED_CREDENTIALS_FILE"] = file
            remove += ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"]
        }
        return try ChildRunner.run([ChildRunner.selfExecutable] + arguments, purpose: .cairn, environment: env, remove: remove, stdoutPath: stdoutPath)
    }

    /// Opens repository `r` (no lock: reading only).
    func open(_ r: PlanRepository) async throws -> Repository {
        let o = try options(r)
        return try await Repository.open(store: try o.store(), passphrase: try o.passphrase(), cacheBase: try cacheBase(r), warnings: TerminalWarnings())
    }

    /// Snapshots and sizes of every plan repository (or those in `only`); an unreadable one carries its error.
    func facts(only names: Set<String>? = nil) async -> [RepositoryFacts] {
        var out: [RepositoryFacts] = []
        for r in plan.repositories where names?.contains(r.name) ?? true {
            do {
                let repo = try await open(r)
                let t = try repo.index.totals()
                var f = RepositoryFacts(name: r.name, snapshots: try repo.snapshots().map(OpsSnapshot.init),
                                        storedBytes: UInt64(t.packBytes), uniqueBytes: UInt64(max(0, t.dataRawBytes)))
                f.storedBlobBytes = UInt64(max(0, t.dataStoredBytes))   // content only, as `cairn stats`
                if r.immutableDays != nil || repo.config.objectLock != nil {
                    do {
                        let p = try await ProtectionReport.measure(repo)
                        f.protection = ProtectionFacts(mode: p.mode, lockDays: p.lock_days, versioning: p.versioning,
                                                       newestSnapshot: p.newest_snapshot, newestLockedUntil: p.newest_snapshot_locked_until_seconds)
                    } catch {
                        f.protection = ProtectionFacts(error: "\(error)")
                    }
                }
                out.append(f)
            } catch {
                out.append(RepositoryFacts(name: r.name, snapshots: nil, error: "\(error)"))
            }
        }
        return out
    }

    /// Stores an ops record (a drill or scrub result) in `r` as a small snapshot tagged `cairn-ops`
    /// whose `extra` holds the facts and whose content is the same facts as JSON.
    func record(name: String, extra: [String: String], in r: PlanRepository) async throws {
        let o = try options(r)
        let guarded = CommitGuardedStore(try o.store())
        let repo = try await Repository.open(store: guarded, passphrase: try o.passphrase(), cacheBase: try cacheBase(r), warnings: TerminalWarnings())
        let lock = try await LockManager(repo: repo, notice: { Terminal.warn($0) })
            .acquire(exclusive: false, operation: "record \(name)", wait: 600)
        guarded.setGuard { try await lock.ensureValid() }
        try await lock.holding {
            try await repo.sync()
            var opts = BackupOptions(name: name)
            opts.tags = [OpsRecord.tag]
            opts.extra = extra
            opts.delta = false
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys]
            let body = try enc.encode(extra)
            let path = NSTemporaryDirectory() + "cairn-record-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).json"
            guard FileManager.default.createFile(atPath: path, contents: body, attributes: [.posixPermissions: 0o600]) else {
                throw CairnError.io("cannot write \(path)")
            }
            defer { unlink(path) }
            let fd = Foundation.open(path, O_RDONLY)
            guard fd >= 0 else { throw CairnError.io("cannot read back \(path)") }
            defer { close(fd) }
            _ = try await Archiver(repo: repo, options: opts).backup(streamFD: fd, label: name + ".json")
        }
    }

    /// The plan's sources filtered by `--source` names (all when empty); unknown names are a usage error.
    func sources(named names: [String]) throws -> [PlanSource] {
        for n in names where plan.source(named: n) == nil {
            throw ValidationError("no source named \(n.debugDescription) in \(plan.file) (have: \(plan.sources.map(\.name).joined(separator: ", ")))")
        }
        return names.isEmpty ? plan.sources : plan.sources.filter { names.contains($0.name) }
    }
}

/// `cairn drill`'s world: real child processes and repositories.
extension OpsContext: DrillEnvironment {}

/// `cairn run`'s world: real child processes and repositories.
extension OpsContext: PlanRunEnvironment {
    func cairn(_ arguments: [String], _ r: PlanRepository, extraEnvironment: [String: String], maintenance: Bool) throws -> ChildResult {
        try cairn(arguments, r, stdoutPath: nil, extraEnvironment: extraEnvironment, maintenance: maintenance)
    }

    func info(_ message: String) { Terminal.info(message) }
}

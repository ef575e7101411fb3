import ArgumentParser
import CairnEngine
import CairnRepository
import CairnPlan
import CairnStorage
import Foundation

/// `cairn lock`: S3 Object Lock maintenance (Docs/immutability.md). Not to be
/// confused with `locks`/`unlock`, which concern the repository's own locks.
struct LockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lock",
        abstract: "S3 Object Lock: extend the retention of what is still used, show the protection.",
        subcommands: [Extend.self, Status.self])

    struct Extend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Push the retain-until date of every object a kept snapshot needs to now + the repository's lock days.",
            discussion: """
                Objects whose lock ends within --renew-before (default: half the lock days) are extended; the \
                others are left alone. Objects no kept snapshot needs are not extended: their lock lapses and a \
                later prune deletes them. Run it (or 'cairn run', which does) more often than --renew-before.
                """)

        @OptionGroup var options: RepositoryOptions
        @OptionGroup var lockOptions: LockOptions

        @Option(help: ArgumentHelp("Extend objects whose lock ends within this (e.g. 15d; default half the lock days).", valueName: "duration"))
        var renewBefore: String?

        @Flag(help: "Only count what would be extended.")
        var dryRun = false

        func run() async throws {
            var window: Int64?
            if let renewBefore {
                guard let s = PlanDuration.fractionalSeconds(renewBefore) else { throw ValidationError("--renew-before must be a duration like 15d or 12h") }
                window = Int64(s)
            }
            let (repo, lock) = try await options.openLocked(exclusive: false, operation: "lock extend", wait: lockOptions.seconds)
            let result = try await lock.holding {
                try await ObjectLockMaintenance(repo: repo).extend(renewBefore: window, dryRun: dryRun)
            }
            if options.json {
                Terminal.json(LockExtendJSON(result, dryRun: dryRun))
                return
            }
            Terminal.out("\(result.objects) objects in use; \(dryRun ? "would extend" : "extended") \(result.extended)")
            if let e = result.earliestRetainUntil { Terminal.out("every object in use stays locked until at least \(Terminal.rfc3339(seconds: Double(e)))") }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the repository's protection: lock mode and days, bucket versioning, how long the newest snapshot stays locked.")

        @OptionGroup var options: RepositoryOptions

        func run() async throws {
            let repo = try await options.open()
            let p = try await ProtectionReport.measure(repo)
            if options.json { Terminal.json(p); return }
            Terminal.out(p.summary)
        }
    }
}

/// A repository's protection against deletion, as `lock status` and `cairn status` show it.
struct ProtectionReport: Encodable {
    let mode: String?
    let lock_days: Int?
    let versioning: String?
    let bucket_object_lock: Bool?
    let newest_snapshot: String?
    let newest_snapshot_locked_until: String?
    let newest_snapshot_locked_until_seconds: Int64?

    static func measure(_ repo: Repository) async throws -> ProtectionReport {
        let policy = repo.config.objectLock.map(RepositoryObjectLock.policy)
        var bucket: BucketProtection?
        if let control = repo.store.objectLock { bucket = try await RetryPolicy().run { try await control.protection() } }
        var newest: (snapshot: String, retainUntil: Int64)?
        if policy != nil { newest = try await ObjectLockMaintenance(repo: repo).newestSnapshotProtection() }
        return ProtectionReport(mode: policy?.mode.name, lock_days: policy?.days, versioning: bucket?.versioning,
                                bucket_object_lock: bucket?.objectLockEnabled, newest_snapshot: newest?.snapshot,
                                newest_snapshot_locked_until: newest.map { Terminal.rfc3339(seconds: Double($0.retainUntil)) },
                                newest_snapshot_locked_until_seconds: newest?.retainUntil)
    }

    var summary: String {
        var parts: [String] = []
        if let mode, let lock_days { parts.append("Object Lock \(mode), \(lock_days) days") } else { parts.append("no Object Lock") }
        if let versioning { parts.append("versioning \(versioning == "Enabled" ? "on" : versioning == "Off" ? "off" : versioning.lowercased())") }
        if let s = newest_snapshot, let until = newest_snapshot_locked_until, let secs = newest_snapshot_locked_until_seconds {
            parts.append(secs == 0 ? "newest snapshot \(s.prefix(8)) has objects WITHOUT a lock" : "newest snapshot \(s.prefix(8)) locked until \(until)")
        }
        return parts.joined(separator: "; ")
    }
}

struct LockExtendJSON: Encodable {
    let dry_run: Bool, objects: Int, extended: Int, earliest_retain_until: String?, newest_snapshot_retain_until: String?, seconds: Double
    init(_ r: ObjectLockMaintenance.Result, dryRun: Bool) {
        dry_run = dryRun; objects = r.objects; extended = r.extended
        earliest_retain_until = r.earliestRetainUntil.map { Terminal.rfc3339(seconds: Double($0)) }
        newest_snapshot_retain_until = r.newestSnapshotRetainUntil.map { Terminal.rfc3339(seconds: Double($0)) }
        seconds = r.seconds
    }
}

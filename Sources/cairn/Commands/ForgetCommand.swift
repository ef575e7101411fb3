import ArgumentParser
import CairnEngine
import CairnRepository
import CairnFormat
import CairnOps
import CairnPostgres
import CairnRetention
import Foundation

struct ForgetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget",
        abstract: "Remove snapshots: the ones named, or by a retention policy (restic's forget rules; Docs/retention.md).",
        discussion: """
        With snapshot ids (or unique prefixes, or latest) those snapshots are removed. Otherwise snapshots are \
        grouped (by name unless --group-by says otherwise) and the policy is applied to each group: \
        the newest snapshot of each of the last N hours/days/ISO weeks/months/years that have snapshots is kept, in the \
        local time zone (TZ). A snapshot is kept when any rule keeps it. Data stays until 'cairn prune' (or --prune). \
        --json prints one JSON document.

        Examples:
          cairn forget 4f2a91c3 77b0e1d2 --prune
          cairn forget --keep-daily 7 --keep-weekly 4 --host db1 --dry-run
        """)

    @OptionGroup var options: RepositoryOptions

    @Argument(help: ArgumentHelp("Snapshots to remove: ids, unique id prefixes or latest (instead of a policy).", valueName: "snapshot"))
    var snapshotIDs: [String] = []

    @Option(help: "Keep the N newest snapshots (or unlimited).") var keepLast: String?
    @Option(help: "Keep the newest snapshot of each of the last N hours with snapshots.") var keepHourly: String?
    @Option(help: "... of each of the last N days.") var keepDaily: String?
    @Option(help: "... of each of the last N ISO weeks (Monday-Sunday).") var keepWeekly: String?
    @Option(help: "... of each of the last N months.") var keepMonthly: String?
    @Option(help: "... of each of the last N years.") var keepYearly: String?
    @Option(help: "Keep every snapshot within this duration (like 2y5m7d3h) of the newest one.") var keepWithin: String?
    @Option(help: "Keep the newest of each hour within this duration of the newest snapshot.") var keepWithinHourly: String?
    @Option(help: "... of each day within the duration.") var keepWithinDaily: String?
    @Option(help: "... of each ISO week within the duration.") var keepWithinWeekly: String?
    @Option(help: "... of each month within the duration.") var keepWithinMonthly: String?
    @Option(help: "... of each year within the duration.") var keepWithinYearly: String?
    @Option(name: .customLong("keep-tag"), help: "Keep snapshots having all these tags (comma-separated; repeatable: any list; '' keeps untagged ones).")
    var keepTags: [String] = []

    @Option(name: .customLong("name"), help: "Only snapshots of this name (repeatable).") var names: [String] = []
    @Option(name: .customLong("host"), help: "Only snapshots from this host (repeatable).") var hosts: [String] = []
    @Option(name: .customLong("tag"), help: "Only snapshots having all these tags (comma-separated; repeatable: any list).") var tags: [String] = []
    @Option(name: .customLong("path"), help: "Only snapshots that include this backed-up path (repeatable: all of them).") var paths: [String] = []
    @Option(help: "Apply the policy to each group of snapshots sharing these: any of name,host,tags, or '' for one group.")
    var groupBy = "name"

    @Flag(help: "Allow removing every snapshot of a group (and an empty policy to remove every selected snapshot).")
    var allowRemoveAll = false
    @Flag(help: "Print what would be removed; remove nothing.") var dryRun = false
    @Flag(help: "Prune afterwards when snapshots were removed (same lock).") var prune = false

    @OptionGroup var pruneArguments: PruneArguments
    @OptionGroup var lockOptions: LockOptions

    func policy() throws -> RetentionPolicy {
        var p = RetentionPolicy()
        func count(_ s: String?, _ flag: String) throws -> Int {
            guard let s else { return 0 }
            guard let n = RetentionPolicy.parseCount(s) else { throw ValidationError("--\(flag) must be a number ≥ 0 or unlimited") }
            return n
        }
        func duration(_ s: String?, _ flag: String) throws -> RetentionDuration? {
            guard let s else { return nil }
            guard let d = RetentionDuration.parse(s) else { throw ValidationError("--\(flag) \(s.debugDescription) is not a duration like 7d, 2y5m7d3h or 36h") }
            return d
        }
        p.last = try count(keepLast, "keep-last"); p.hourly = try count(keepHourly, "keep-hourly")
        p.daily = try count(keepDaily, "keep-daily"); p.weekly = try count(keepWeekly, "keep-weekly")
        p.monthly = try count(keepMonthly, "keep-monthly"); p.yearly = try count(keepYearly, "keep-yearly")
        p.within = try duration(keepWithin, "keep-within")
        p.withinHourly = try duration(keepWithinHourly, "keep-within-hourly")
        p.withinDaily = try duration(keepWithinDaily, "keep-within-daily")
        p.withinWeekly = try duration(keepWithinWeekly, "keep-within-weekly")
        p.withinMonthly = try duration(keepWithinMonthly, "keep-within-monthly")
        p.withinYearly = try duration(keepWithinYearly, "keep-within-yearly")
        p.tags = keepTags.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        return p
    }

    func selection() throws -> SnapshotForgetter.Selection {
        var s = SnapshotForgetter.Selection()
        s.names = names; s.hosts = hosts; s.paths = paths
        s.tags = tags.map { $0.split(separator: ",").map(String.init) }
        guard let g = Retention.GroupBy.parse(groupBy) else { throw ValidationError("--group-by takes name, host and tags, comma-separated, or ''") }
        s.groupBy = g
        return s
    }

    func validate() throws {
        let policy = try policy(); _ = try selection()
        if !snapshotIDs.isEmpty {
            if !policy.isEmpty { throw ValidationError("give snapshot ids or a --keep-* policy, not both") }
            if allowRemoveAll { throw ValidationError("--allow-remove-all goes with a policy, not with snapshot ids") }
        }
        if prune && dryRun { throw ValidationError("--prune and --dry-run do not go together (run 'cairn prune --dry-run' separately)") }
    }

    func run() async throws {
        if !snapshotIDs.isEmpty { return try await forgetChosen() }
        let policy = try policy(), selection = try selection()
        if dryRun {
            let repo = try await options.open()
            let out = try await SnapshotForgetter(repo: repo).run(policy: policy, selection: selection, separately: SourceRegistry.separateRetentions, allowRemoveAll: allowRemoveAll, dryRun: true)
            let wal = walRemovals(out.snapshots, removed: out.removed)
            print(out, policy: policy, pruned: nil, wal: wal)
            return
        }
        let (repo, lock) = try await options.openLocked(exclusive: true, operation: "forget", wait: lockOptions.seconds,
                                                        releaseReserve: !prune || pruneArguments.deletesOnly)
        defer { options.restoreSpaceReserve() }
        let (out, wal, pruned) = try await lock.holding { () -> (SnapshotForgetter.Outcome, [WALRetention.Removal], PruneResult?) in
            let forgetter = SnapshotForgetter(repo: repo)
            let out = try await forgetter.run(policy: policy, selection: selection, separately: SourceRegistry.separateRetentions, allowRemoveAll: allowRemoveAll,
                                              dryRun: false, commitCheck: { try await lock.ensureValid() })
            // WAL no kept base backup needs goes with the base backups that needed it (decided on the
            // snapshots the forget decoded: each is decoded once).
            let wal = walRemovals(out.snapshots, removed: out.removed)
            if !wal.isEmpty { try await lock.ensureValid() }
            try await forgetter.remove(wal.map(\.snapshotID))
            guard prune, !(out.removed.isEmpty && wal.isEmpty) else { return (out, wal, nil) }
            return (out, wal, try await pruneArguments.pruner(repo: repo, dryRun: false, lock: lock).run())
        }
        print(out, policy: policy, pruned: pruned, wal: wal)
    }

    /// `cairn forget ID...`: exactly these snapshots.
    func forgetChosen() async throws {
        let filter = SnapshotFilter(names: names, hosts: hosts, tags: tags.map { $0.split(separator: ",").map(String.init) }, paths: paths)
        func chosen(_ repo: Repository) throws -> [SnapshotRecord] { try filter.records(ids: snapshotIDs, in: repo) }
        if dryRun {
            let repo = try await options.open()
            let records = try chosen(repo)
            printChosen(records, wal: walRemovals(try repo.snapshots(), removed: records.map(\.id)), pruned: nil)
            return
        }
        let (repo, lock) = try await options.openLocked(exclusive: true, operation: "forget", wait: lockOptions.seconds,
                                                        releaseReserve: !prune || pruneArguments.deletesOnly)
        defer { options.restoreSpaceReserve() }
        let (records, wal, pruned) = try await lock.holding { () -> ([SnapshotRecord], [WALRetention.Removal], PruneResult?) in
            // Resolved under the exclusive lock: what is removed is what was looked at.
            let records = try chosen(repo)
            let forgetter = SnapshotForgetter(repo: repo)
            try await lock.ensureValid()
            try await forgetter.remove(records.map(\.id))
            let wal = walRemovals(try repo.snapshots(), removed: [])
            if !wal.isEmpty { try await lock.ensureValid() }
            try await forgetter.remove(wal.map(\.snapshotID))
            guard prune else { return (records, wal, nil) }
            return (records, wal, try await pruneArguments.pruner(repo: repo, dryRun: false, lock: lock).run())
        }
        printChosen(records, wal: wal, pruned: pruned)
    }

    func printChosen(_ records: [SnapshotRecord], wal: [WALRetention.Removal], pruned: PruneResult?) {
        if options.json {
            Terminal.json(ForgetJSON(dry_run: dryRun, policy: nil, groups: [], removed: records.map(\.id.hex),
                                     wal_removed: wal.map { .init(id: $0.snapshotID.hex, file: $0.file, reason: $0.reason) }, prune: pruned))
            return
        }
        for r in records {
            let s = r.snapshot
            Terminal.out("\(dryRun ? "would remove" : "removed") snapshot \(r.id.prefix(8))  \(Terminal.rfc3339(s.timeNanos))  \(EscapedText.escape(s.host))  \(EscapedText.escape(s.name))")
        }
        for w in wal { Terminal.out("  WAL \(w.file)  remove: \(w.reason)") }
        Terminal.out("\(records.count) snapshot(s) \(dryRun ? "would be removed" : "removed")"
                     + (wal.isEmpty ? "" : "; \(wal.count) archived WAL file(s) \(dryRun ? "would be removed" : "removed")"))
        if let pruned {
            Terminal.out("pruning:")
            report(pruned, json: false)
        } else if !dryRun {
            Terminal.out("the data stays until 'cairn prune'")
        }
    }

    /// Archived WAL files older than the oldest base backup that stays: `all` is every snapshot
    /// of the repository before `removed` went.
    func walRemovals(_ all: [SnapshotRecord], removed: [SnapshotID]) -> [WALRetention.Removal] {
        let gone = Set(removed)
        return WALRetention.removable(snapshots: all, kept: Set(all.map(\.id).filter { !gone.contains($0) }))
    }

    func print(_ out: SnapshotForgetter.Outcome, policy: RetentionPolicy, pruned: PruneResult?, wal: [WALRetention.Removal]) {
        if options.json {
            Terminal.json(ForgetJSON(dry_run: dryRun, policy: policy.description, groups: out.groups.map { g in
                ForgetJSON.Group(name: g.key.name, host: g.key.host, tags: g.key.tags, snapshots: g.decisions.compactMap { d in
                    guard let s = g.records[d.snapshot.id]?.snapshot else { return nil }
                    return ForgetJSON.Entry(id: d.snapshot.id.hex, time: Terminal.rfc3339(s.timeNanos), name: s.name, host: s.host, tags: s.tags,
                                            action: d.keep ? "keep" : "remove", reasons: d.reasons.map(\.description))
                })
            }, removed: out.removed.map(\.hex), wal_removed: wal.map { .init(id: $0.snapshotID.hex, file: $0.file, reason: $0.reason) }, prune: pruned))
            return
        }
        Terminal.out("policy: \(policy.description), periods in the time zone \(TimeZone.current.identifier)" + (dryRun ? " (dry run: nothing is removed)" : ""))
        let hostW = max(14, out.groups.flatMap { $0.records.values.map { EscapedText.escape($0.snapshot.host).count } }.max() ?? 0)
        for g in out.groups {
            Terminal.out("snapshots of \(EscapedText.escape(g.key.description)):")
            for d in g.decisions {
                guard let s = g.records[d.snapshot.id]?.snapshot else { continue }
                // The one human time format of every table (RFC 3339 UTC); the policy's buckets are in TZ, as the header says.
                let when = Terminal.rfc3339(s.timeNanos)
                let verdict = d.keep ? "keep: " + d.reasons.map(\.description).joined(separator: ", ") : "remove"
                Terminal.out("  \(d.snapshot.id.prefix(8))  \(when)  \(EscapedText.escape(s.host).padding(hostW))  \(verdict)")
            }
        }
        for w in wal { Terminal.out("  WAL \(w.file)  remove: \(w.reason)") }
        Terminal.out("\(out.kept) snapshot(s) kept, \(out.removed.count) \(dryRun ? "would be removed" : "removed")"
                     + (wal.isEmpty ? "" : "; \(wal.count) archived WAL file(s) \(dryRun ? "would be removed" : "removed")"))
        if let pruned {
            Terminal.out("pruning:")
            report(pruned, json: false)
        } else if !dryRun && !out.removed.isEmpty {
            Terminal.out("the data stays until 'cairn prune'")
        }
    }
}

struct ForgetJSON: Encodable {
    struct Entry: Encodable { let id: String, time: String, name: String, host: String, tags: [String], action: String, reasons: [String] }
    struct Group: Encodable { let name: String?, host: String?, tags: [String]?, snapshots: [Entry] }
    let dry_run: Bool
    /// nil when snapshots were named by id.
    let policy: String?
    let groups: [Group]
    let removed: [String]
    struct WAL: Encodable { let id: String, file: String, reason: String }
    let wal_removed: [WAL]
    let prune: PruneResult?
}

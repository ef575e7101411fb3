import CairnFormat
import CairnIndex
import CairnRepository
import CairnRetention
import CairnStorage
import Foundation

/// `cairn forget`: applies a retention policy to the repository's snapshots,
/// group by group, and deletes the `snapshots/` objects it does not keep.
/// Data stays until a prune.
public struct SnapshotForgetter {
    let repo: Repository
    public init(repo: Repository) { self.repo = repo }

    /// Which snapshots a forget looks at and how it groups them.
    public struct Selection: Sendable {
        public var names: [String] = []
        public var hosts: [String] = []
        /// Snapshots having every tag of any one list (as restic's --tag).
        public var tags: [[String]] = []
        /// Snapshots including every one of these paths (restic's --path).
        public var paths: [String] = []
        public var groupBy: Retention.GroupBy = .name
        public init() {}

        public var isFiltered: Bool { !filter.isEmpty }

        var filter: SnapshotFilter { SnapshotFilter(names: names, hosts: hosts, tags: tags, paths: paths) }

        func matches(_ s: Snapshot) -> Bool { filter.matches(s) }
    }

    public struct Group: Sendable {
        public var key: Retention.GroupKey
        /// Newest first.
        public var decisions: [RetentionDecision<SnapshotID>]
        public var records: [SnapshotID: SnapshotRecord]
    }

    public struct Outcome: Sendable {
        public var groups: [Group]
        public var removed: [SnapshotID]
        /// Every snapshot of the repository as the forget found it (before it removed any), decoded
        /// once: what a source's own retention rule (`WALRetention`) decides on next.
        public var snapshots: [SnapshotRecord]
        public var kept: Int { groups.reduce(0) { $0 + $1.decisions.filter(\.keep).count } }
    }

    /// Why a forget refuses to act.
    public struct Refusal: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Decides, group by group. Throws `Refusal` when the policy is empty or
    /// would remove every snapshot of a group, unless `allowRemoveAll`.
    /// - Parameter separately: the sources' own retention rules (`SourceRegistry.separateRetentions`):
    ///   the snapshots they cover are left out of the policy; their sources remove them.
    public func plan(policy: RetentionPolicy, selection: Selection, separately: [SeparateRetention], allowRemoveAll: Bool,
                     now: Int64 = Clock.nowNanos(), timeZone: TimeZone = .current) throws -> [Group] {
        try plan(policy: policy, selection: selection, separately: separately, allowRemoveAll: allowRemoveAll, now: now, timeZone: timeZone,
                 snapshots: try repo.snapshots())
    }

    /// `plan` over `snapshots` (every snapshot of the repository, decoded by the caller).
    func plan(policy: RetentionPolicy, selection: Selection, separately: [SeparateRetention], allowRemoveAll: Bool,
              now: Int64, timeZone: TimeZone, snapshots: [SnapshotRecord]) throws -> [Group] {
        let records = snapshots.filter { r in
            selection.matches(r.snapshot) && !separately.contains { $0.covers(r.snapshot) }
        }
        if policy.isEmpty && !allowRemoveAll {
            throw Refusal(description: "no policy given: nothing would be kept. Give --keep-* options or snapshot ids, or --allow-remove-all with --name/--host/--tag/--path to remove every selected snapshot")
        }
        if policy.isEmpty && !selection.isFiltered {
            throw Refusal(description: "--allow-remove-all with an empty policy needs a filter (--name, --host, --tag or --path): refusing to remove every snapshot of the repository")
        }
        let facts = records.map { r in
            RetentionSnapshot(id: r.id, timeNanos: r.snapshot.timeNanos, name: r.snapshot.name, host: r.snapshot.host, tags: r.snapshot.tags)
        }
        let byID = Dictionary(records.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var groups: [Group] = []
        for g in Retention.group(facts, by: selection.groupBy) {
            var decisions = Retention.apply(policy, to: g.snapshots, now: now, timeZone: timeZone)
            if policy.isEmpty {
                decisions = decisions.map { RetentionDecision(snapshot: $0.snapshot, keep: false, reasons: []) }
            } else if !decisions.contains(where: \.keep) && !allowRemoveAll {
                throw Refusal(description: "the policy would remove all \(decisions.count) snapshot(s) of the group \(g.key) (\(policy.description)); refusing. Use --allow-remove-all if that is meant")
            }
            groups.append(Group(key: g.key, decisions: decisions, records: Dictionary(g.snapshots.compactMap { f in byID[f.id].map { (f.id, $0) } }, uniquingKeysWith: { a, _ in a })))
        }
        return groups
    }

    /// Deletes one snapshot object and drops it from the cache.
    public func remove(_ id: SnapshotID) async throws { try await remove([id]) }

    /// Deletes snapshots and drops them from the cache. A forget record
    /// naming them is stored first (format-spec §20): a copy of one put back
    /// into the store later is recognised as forgotten. A snapshot of its own
    /// object goes with it; a catalogue holding one is replaced by one
    /// without it (format-spec v2.md), written from the cache, so a
    /// catalogue holding snapshots this Cairn cannot read is refused first.
    public func remove(_ snapshotIDs: [SnapshotID]) async throws {
        guard !snapshotIDs.isEmpty else { return }
        let ids = snapshotIDs.map(\.hex)
        let holders = try repo.index.snapshotObjects(holding: ids)
        let loaded = Dictionary(try repo.index.snapshotObjects().map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for name in holders.keys.sorted() where loaded[name]?.kind == .catalogue && loaded[name]?.complete == false {
            throw CairnError.other("snapshot catalogue \(name.prefix(12)) holds snapshots this cairn cannot read (written by a newer cairn): it cannot be rewritten without them; upgrade cairn, then forget again")
        }
        try await ForgetRecords.write(repo, ids: ids)
        let doomed = Set(ids)
        for (name, _) in holders.sorted(by: { $0.key < $1.key }) where loaded[name]?.kind == .catalogue {
            let keep = try repo.index.snapshotRows(inObject: name).filter { !doomed.contains($0.id) }
            try await repo.replaceCatalogue(name, with: keep.compactMap { r in SnapshotID(hex: r.id).map { .init(id: $0, plaintext: r.plaintext) } })
        }
        // Single snapshots, and ids no loaded object holds (an object of that name may still be in the store).
        let inCatalogues = Set(holders.filter { loaded[$0.key]?.kind == .catalogue }.values.joined())
        // Object Lock: a snapshot object still locked stays in the store; the forget record
        // already makes every reader ignore it, and a prune deletes it once it lapses.
        let lockGuard = ObjectLockGuard(repo: repo)
        for id in ids where !inCatalogues.contains(id) || holders[id] != nil {
            if let lockGuard { try await lockGuard.delete(ObjectKey(.snapshots, id)) } else { try await repo.store.delete(ObjectKey(.snapshots, id)) }
        }
        try repo.index.removeSnapshots(ids: ids)
        if let lockGuard, let line = ObjectLockGuard.describe(lockGuard.deferred) {
            repo.warnings.warn("forget: \(line) (the forgotten snapshots are gone from every listing already)")
        }
    }

    /// Plans and (unless `dryRun`) removes. `commitCheck` runs before the first deletion.
    public func run(policy: RetentionPolicy, selection: Selection, separately: [SeparateRetention], allowRemoveAll: Bool, dryRun: Bool,
                    now: Int64 = Clock.nowNanos(), timeZone: TimeZone = .current,
                    commitCheck: (() async throws -> Void)? = nil) async throws -> Outcome {
        let snapshots = try repo.snapshots()
        let groups = try plan(policy: policy, selection: selection, separately: separately, allowRemoveAll: allowRemoveAll,
                              now: now, timeZone: timeZone, snapshots: snapshots)
        let doomed = groups.flatMap { $0.decisions.filter { !$0.keep }.map(\.snapshot.id) }
        if !dryRun && !doomed.isEmpty {
            try await commitCheck?()
            try await remove(doomed)
        }
        return Outcome(groups: groups, removed: doomed, snapshots: snapshots)
    }
}

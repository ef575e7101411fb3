import CairnFormat
import CairnIndex
import CairnRepository
import CairnStorage
import Foundation

/// Keeps what a repository still uses locked (`cairn lock extend`, a step of
/// `cairn run`), as kopia's maintenance does: every object a kept snapshot
/// needs (its snapshot object, trees, content and delta bases' packs, the
/// current index objects, key files, the config and the forget records) gets
/// its retain-until date pushed to now + the repository's lock days when less
/// than `renewBefore` is left. What nothing uses is not extended: it lapses and
/// a later prune deletes it (Docs/immutability.md).
public struct ObjectLockMaintenance {
    let repo: Repository
    public init(repo: Repository) { self.repo = repo }

    /// The tag of `cairn run`'s records (drills, scrubs): no backup, not "the newest snapshot".
    static let opsRecordTag = "cairn-ops"

    /// What an extension did.
    public struct Result: Sendable, Codable {
        /// Objects in use, checked.
        public var objects = 0
        /// Objects whose retain-until date was moved forward.
        public var extended = 0
        /// The earliest retain-until date among the objects in use afterwards (seconds since 1970).
        public var earliestRetainUntil: Int64?
        /// The same for the newest snapshot's objects alone.
        public var newestSnapshotRetainUntil: Int64?
        public var seconds = 0.0

        enum CodingKeys: String, CodingKey {
            case objects, extended, earliestRetainUntil = "earliest_retain_until", newestSnapshotRetainUntil = "newest_snapshot_retain_until", seconds
        }
    }

    /// The lock of the repository and its store's control; a clear error when it has none.
    func lockControl() throws -> (ObjectLockPolicy, any ObjectLockControl) {
        guard let lock = repo.config.objectLock else {
            throw CairnError.invalidArgument("the repository at \(repo.store.location) was not created with --object-lock: there is nothing to extend (Docs/immutability.md tells how to make a locked copy with 'cairn copy --object-lock')")
        }
        guard let control = repo.store.objectLock else {
            throw CairnError.invalidArgument("the repository at \(repo.store.location) requires S3 Object Lock but this store cannot set it")
        }
        return (RepositoryObjectLock.policy(lock), control)
    }

    /// Extends every object in use whose lock ends within `renewBefore` seconds (default: half the lock days).
    public func extend(renewBefore: Int64? = nil, dryRun: Bool = false, progress: WorkProgress = WorkProgress(),
                       now: Int64 = Int64(Date().timeIntervalSince1970)) async throws -> Result {
        let started = Clock.monotonic()
        let (policy, control) = try lockControl()
        let window = min(renewBefore ?? Int64(policy.days) * 86_400 / 2, Int64(policy.days) * 86_400)
        let target = ObjectRetention(mode: policy.mode, retainUntil: now + Int64(policy.days) * 86_400)
        let (all, newest) = try await objectsInUse()
        var result = Result()
        result.objects = all.count
        let retry = RetryPolicy()
        // Each object: one HEAD, and a PUT ?retention when its lock ends too soon; 16 at a time.
        let keys = Array(all)
        var until: [ObjectKey: Int64] = [:]
        for batch in stride(from: 0, to: keys.count, by: 16).map({ Array(keys[$0..<min(keys.count, $0 + 16)]) }) {
            let outcomes = try await withThrowingTaskGroup(of: (ObjectKey, Int64, Bool).self) { group in
                for key in batch {
                    group.addTask {
                        let current: ObjectRetention?
                        do { current = try await retry.run { try await control.retention(of: key) } } catch StorageError.notFound {
                            throw CairnError.other("\(key.path) is in use but missing from the store: run 'cairn scrub'")
                        }
                        if let current, current.retainUntil >= now + window { return (key, current.retainUntil, false) }
                        if !dryRun { try await retry.run { try await control.setRetention(of: key, target) } }
                        return (key, max(target.retainUntil, current?.retainUntil ?? 0), true)
                    }
                }
                var out: [(ObjectKey, Int64, Bool)] = []
                for try await o in group { out.append(o) }
                return out
            }
            for (key, date, extended) in outcomes {
                until[key] = date
                if extended { result.extended += 1 }
            }
            progress.update { $0.filesDone += UInt64(batch.count) }
        }
        result.earliestRetainUntil = until.values.min()
        result.newestSnapshotRetainUntil = newest.compactMap { until[$0] }.min()
        result.seconds = Clock.monotonic() - started
        return result
    }

    /// The earliest retain-until date of the newest snapshot's objects, and that snapshot's id
    /// (nil when there is no snapshot); objects without a lock count as 0 (unprotected).
    public func newestSnapshotProtection(name: String? = nil) async throws -> (snapshot: String, retainUntil: Int64)? {
        let (_, control) = try lockControl()
        guard let newest = try repo.snapshots(name: name).filter({ !$0.snapshot.tags.contains(Self.opsRecordTag) })
            .max(by: { $0.snapshot.timeNanos < $1.snapshot.timeNanos }) else { return nil }
        var keys = try await fixedObjects()
        for name in try snapshotObjects([newest]) { keys.insert(ObjectKey(.snapshots, name)) }
        for pack in try await packs(of: [newest]) { keys.insert(ObjectKey(.data, pack.hex)) }
        let retry = RetryPolicy()
        var earliest = Int64.max
        for key in keys {
            let r = try await retry.run { try await control.retention(of: key) }
            earliest = min(earliest, r?.retainUntil ?? 0)
        }
        return (newest.id.hex, earliest)
    }

    /// Every object the kept snapshots need; and the subset the newest one needs.
    func objectsInUse() async throws -> (all: Set<ObjectKey>, newest: Set<ObjectKey>) {
        try await repo.sync()
        var all = try await fixedObjects()
        let snapshots = try repo.snapshots()
        for name in try snapshotObjects(snapshots) { all.insert(ObjectKey(.snapshots, name)) }
        for pack in try await packs(of: snapshots) { all.insert(ObjectKey(.data, pack.hex)) }
        var newest = Set<ObjectKey>()
        if let n = snapshots.filter({ !$0.snapshot.tags.contains(Self.opsRecordTag) }).max(by: { $0.snapshot.timeNanos < $1.snapshot.timeNanos }) {
            newest = try await fixedObjects()
            for name in try snapshotObjects([n]) { newest.insert(ObjectKey(.snapshots, name)) }
            for pack in try await packs(of: [n]) { newest.insert(ObjectKey(.data, pack.hex)) }
        }
        return (all, newest)
    }

    /// The `snapshots/` objects holding these snapshots: their own objects, or the catalogues holding them (format 2).
    func snapshotObjects(_ snapshots: [SnapshotRecord]) throws -> Set<String> {
        let holders = try repo.index.snapshotObjects(holding: snapshots.map(\.id.hex))
        var out = Set(holders.keys)
        let held = Set(holders.values.joined())
        for s in snapshots where !held.contains(s.id.hex) { out.insert(s.id.hex) }
        return out
    }

    /// The config, key files, forget records and the index objects no other one supersedes.
    func fixedObjects() async throws -> Set<ObjectKey> {
        var out: Set<ObjectKey> = [.config]
        for k in try await repo.store.list(.keys) { out.insert(k) }
        for k in try await repo.store.list(.forgotten) { out.insert(k) }
        let index = try await repo.store.list(.index)
        var superseded = Set<String>()
        for key in index {
            guard let delta = try? IndexDelta.decode(try repo.keys.openObject(.index, try await MetadataObjects.read(repo.store, key))) else { continue }
            for id in delta.supersedes { superseded.insert(id.hex) }
        }
        for key in index where !superseded.contains(key.name) { out.insert(key) }
        return out
    }

    /// The packs holding every blob the snapshots reach: trees, list blobs, data and their delta bases.
    func packs(of snapshots: [SnapshotRecord]) async throws -> Set<PackID> {
        var packs = Set<PackID>()
        var trees = Set<ChunkID>()
        var lists = Set<ChunkID>()
        var data = Set<ChunkID>()
        func addData(_ ids: [ChunkID]) async throws {
            var frontier = ids.filter { data.insert($0).inserted }
            while !frontier.isEmpty {
                let located = try await repo.locate(frontier, type: .data)
                frontier = []
                for loc in located {
                    packs.insert(loc.pack)
                    if let base = loc.base, data.insert(base).inserted { frontier.append(base) }
                }
            }
        }
        for s in snapshots {
            try await TreeWalker.walk(s.snapshot.root, enter: { id in
                guard trees.insert(id).inserted else { return false }
                packs.insert(try await repo.locate(id, type: .tree).pack)
                return true
            }, load: { try await repo.loadTree($0) }, visit: { _, node in
                guard node.kind == .file else { return }
                try await ListExpander.expand(node.content, enter: { id in
                    guard lists.insert(id).inserted else { return false }
                    packs.insert(try await repo.locate(id, type: .list).pack)
                    return true
                }, readList: { try await repo.readBlob(.list, $0) }, data: { try await addData($0) })
            })
        }
        return packs
    }
}

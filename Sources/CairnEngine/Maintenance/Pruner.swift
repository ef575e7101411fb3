import CairnCrypto
import CairnFormat
import CairnIndex
import CairnRepository
import CairnStorage

/// Mark and sweep under an exclusive lock (format-spec §20): every blob that
/// a remaining snapshot reaches is kept; packs without such blobs are
/// deleted; partly used packs are repacked (each blob verified) when their
/// unused bytes exceed the allowance; one new index delta replaces all.
public final class Pruner {
    let repo: Repository
    let options: PruneOptions
    public let progress: WorkProgress
    /// Runs before each step that commits (index write, deletions): the
    /// lock's `ensureValid`, so a prune that lost its lock stops.
    public var commitCheck: (@Sendable () async throws -> Void)? = nil
    /// Told what happens, step by step (the CLI prints these with --verbose).
    public var log: (@Sendable (String) -> Void)? = nil

    /// Bytes of memory the last run's view of the index held (its table and per-blob bits), at
    /// most: what bounds a prune's memory per blob (the tests' and the benchmark's figure).
    private(set) var indexMemoryBytes = 0

    public init(repo: Repository, options: PruneOptions = PruneOptions(), progress: WorkProgress = WorkProgress()) {
        self.repo = repo; self.options = options; self.progress = progress
    }

    /// Lists what the store holds and marks what snapshots use (`survey`), decides
    /// what to delete, keep and repack (`PrunePlan`, no store), then carries it out
    /// (`execute`) unless this is a dry run or nothing would change.
    public func run() async throws -> PruneResult {
        let started = Clock.monotonic()
        let survey = try await self.survey()
        let ix = survey.facts.index
        let plan = try PrunePlan(survey.facts, options: options)
        indexMemoryBytes = max(indexMemoryBytes, ix.memoryBytes)
        var result = plan.summary
        if plan.basesKept > 0 { log?("kept \(plan.basesKept) unused blobs as delta bases (repack budget exhausted)") }
        result.replayedSnapshotsRemoved = survey.replayed
        if !plan.undecodableKept.isEmpty {
            log?("\(result.undecodableBlobsKept) delta blobs whose base is stored nowhere stay in \(plan.undecodableKept.count) packs (no repack budget left)")
        }
        if let lockGuard = survey.lockGuard {
            let d = lockGuard.deferred
            result.lockedObjectsKept = d.count
            result.lockedUntilEarliest = d.earliest.map(ObjectLockGuard.utc)
            result.lockedUntilLatest = d.latest.map(ObjectLockGuard.utc)
            if !plan.setAside.isEmpty { log?("\(plan.setAside.count) unused packs stay, locked, out of the new index") }
        }
        log?("plan: delete \(result.packsDeleted) packs, repack \(plan.repack.count), keep \(plan.keep.count); \(result.unusedBytesKept) unused bytes stay")

        if options.dryRun || !result.indexRewritten {
            result.bytesFreed = result.bytesDeleted + result.bytesRepacked - (result.bytesRepacked > 0 ? plan.usedBytesRepacked(ix) : 0)
            result.storedBytesAfter = result.packBytes - result.bytesFreed
            result.seconds = Clock.monotonic() - started
            return result
        }
        try await execute(plan, survey, into: &result)
        result.bytesFreed = result.bytesDeleted + result.bytesRepacked - result.bytesWritten
        result.storedBytesAfter = result.packBytes - result.bytesFreed
        result.seconds = Clock.monotonic() - started
        try await repo.sync()
        return result
    }

    /// What `survey` found: the facts the plan is made from, and what `execute` needs besides.
    struct Survey {
        var facts: PruneFacts
        /// Every index object listed (all are superseded by the new index), and those Object Lock keeps.
        let indexKeys: [ObjectKey]
        let lockedIndex: Set<String>
        /// Forgotten snapshots found in the store again, removed again.
        let replayed: Int
        /// Object Lock's gatekeeper for deletions (nil without a lock).
        let lockGuard: ObjectLockGuard?
    }

    /// Steps 1 and 2: what the store holds (snapshots, index objects, packs; anything
    /// unreadable stops the prune), snapshots a forget removed that are back (removed
    /// again), every blob a snapshot reaches marked, and what Object Lock still protects.
    func survey() async throws -> Survey {
        // 1. What the store says: snapshots, index objects, packs. Anything unreadable stops the prune.
        // Object Lock: what is still locked is never deleted (nil without a lock).
        let lockGuard = ObjectLockGuard(repo: repo)
        let (roots, replayed) = try await liveRoots(lockGuard: lockGuard)
        let indexKeys = try await repo.store.list(.index)
        let (table, packsNamedBy) = try await indexTable(indexKeys, namingPacks: lockGuard != nil)
        let stored = Set(try await repo.store.list(.data).compactMap { PackID(hex: $0.name) })
        var unindexed = stored.filter { table.slot(of: $0) == nil }.sorted()
        log?("\(roots.count) snapshots, \(indexKeys.count) index objects, \(table.packs.count) indexed packs, \(unindexed.count) unindexed packs")
        let ix = try PruneIndex(table: table, present: table.packs.map { stored.contains($0.id) })
        log?("index: \(table.recordCount) entries, \(ix.memoryBytes >> 20) MiB in memory (the entries themselves in a scratch file in \(repo.cacheDirectory))")

        // 2. Mark: every blob a snapshot reaches.
        try await markUsed(roots, in: ix)

        var lockedIndex = Set<String>()
        var lockedPacks = Set<Int>()
        if let lockGuard {
            (lockedIndex, lockedPacks, unindexed) = try await lockedObjects(lockGuard, indexKeys: indexKeys, packsNamedBy: packsNamedBy,
                                                                            in: ix, unindexed: unindexed)
        }
        var facts = PruneFacts(index: ix)
        facts.snapshots = roots.count
        facts.indexObjects = indexKeys.count
        facts.lockedPacks = lockedPacks
        facts.packSize = UInt64(repo.config.packSize)
        for id in unindexed { facts.unindexed[id] = try await repo.store.size(ObjectKey(.data, id.hex)) ?? 0 }
        return Survey(facts: facts, indexKeys: indexKeys, lockedIndex: lockedIndex, replayed: replayed, lockGuard: lockGuard)
    }

    /// The roots of the snapshots that stay, after removing again the snapshots a forget
    /// removed that are in the store again (format-spec §20); returns how many those were.
    private func liveRoots(lockGuard: ObjectLockGuard?) async throws -> (roots: [ChunkID], replayed: Int) {
        let storedSnapshots = try await StoreSnapshots.load(repo)
        // A snapshot a forget record names was removed by 'forget': one in the store again was
        // put back (a replay). It is no root, and it goes again (format-spec §20).
        let records = try await ForgetRecords.load(repo)
        for r in records.unreadable { log?("forget record \(r.name.prefix(12)) cannot be read (\(r.problem)): the snapshots it names count as live") }
        // An unreadable object a forget record names is a replay that goes anyway.
        if let bad = storedSnapshots.unreadable.first(where: { records.forgotten[String($0.name.split(separator: "#").last ?? "")] == nil }) {
            throw CairnError.other("snapshot \(bad.name.prefix(12)) cannot be read (\(bad.problem)): prune stops, since it cannot tell what that snapshot uses; run 'cairn scrub' and 'cairn repair'")
        }
        // Unreadable objects named by a record are replays too (a damaged copy of a removed snapshot).
        let unreadableReplays = storedSnapshots.unreadable.map(\.name).filter { !$0.contains("#") && records.forgotten[$0] != nil }
        let replayed = storedSnapshots.allIDs.union(unreadableReplays).filter { records.forgotten[$0] != nil }.sorted()
        if !replayed.isEmpty {
            log?("\(replayed.count) snapshot(s) removed by forget are in the store again (replayed or still locked): removing them again")
            if !options.dryRun {
                try await commitCheck?()
                let gone = Set(replayed)
                for (object, ids) in storedSnapshots.objects.sorted(by: { $0.key < $1.key }) where ids.contains(where: gone.contains) {
                    if let keep = storedSnapshots.entries(ofCatalogue: object, dropping: gone) {
                        // A catalogue still holding them (a forget stopped before it rewrote it, or an old one put back).
                        try await repo.replaceCatalogue(object, with: keep)
                    } else {
                        if let lockGuard { try await lockGuard.delete(ObjectKey(.snapshots, object)) } else { try await repo.store.delete(ObjectKey(.snapshots, object)) }
                    }
                }
                for name in unreadableReplays { try await repo.store.delete(ObjectKey(.snapshots, name)) }
                try repo.index.removeSnapshots(ids: replayed)
            }
        }
        let roots = storedSnapshots.items.values.filter { records.forgotten[$0.id] == nil }.sorted { $0.id < $1.id }.map(\.snapshot.root)
        return (roots, replayed.count)
    }

    /// Every entry of every index object, in a table on disk with 12 bytes a blob in memory
    /// (a pack named by several index objects counts as the first names it); with
    /// `namingPacks`, also which packs each index object names (for Object Lock).
    private func indexTable(_ indexKeys: [ObjectKey], namingPacks: Bool) async throws -> (IndexEntryTable, [String: [PackID]]) {
        let table = try IndexEntryTable(directory: repo.cacheDirectory, repeatedPacks: .keepFirst)
        var packsNamedBy: [String: [PackID]] = [:]
        for key in indexKeys.sorted(by: { $0.name < $1.name }) {
            let delta: IndexDelta
            do { delta = try IndexDelta.decode(try repo.keys.openObject(.index, try await MetadataObjects.read(repo.store, key))) } catch {
                throw CairnError.other("index object \(key.name.prefix(12)) cannot be read (\(describe(error))): prune stops; run 'cairn index rebuild --read-packs' first")
            }
            if namingPacks { packsNamedBy[key.name] = delta.packs.map(\.id) }
            for p in delta.packs { try table.add(p) }
        }
        try table.finish()
        return (table, packsNamedBy)
    }

    /// Marks every blob the snapshots reach, and the bases of used deltas; stops when a used
    /// blob is stored nowhere that can be read.
    private func markUsed(_ roots: [ChunkID], in ix: PruneIndex) async throws {
        for root in roots {
            try await mark(root, in: ix)
            progress.update { $0.filesDone += 1 }
        }
        // A base named by any usable copy of a used delta blob is used too (format-spec §8).
        try ix.markBasesOfUsedDeltas()

        // Every used blob must be stored somewhere that can be read.
        if let (type, id, locations) = try ix.firstUnstoredUsedBlob() {
            let table = ix.table
            let why: String
            if !locations.contains(where: { ix.present[table.slot(ofRecord: $0)] }) {
                why = "its packs (\(locations.map { table.packs[table.slot(ofRecord: $0)].id.hex.prefix(12) }.joined(separator: ", "))) are missing from the store"
            } else {
                why = "every stored copy is a delta whose base is stored whole nowhere"
            }
            throw CairnError.other("\(type) blob \(id.hex) is used but \(why): prune stops; run 'cairn scrub' and 'cairn repair'")
        }
    }

    /// Object Lock (Docs/immutability.md): an index object still locked stays, so every pack it
    /// names stays too (format-spec §20: while an index object exists, so do its packs); a pack
    /// still locked is neither deleted nor repacked. Such packs holding nothing used are left out
    /// of the new index and deleted by a later prune, once nothing locks them. Returns the locked
    /// index objects and packs, and the unindexed packs that may be deleted now.
    private func lockedObjects(_ lockGuard: ObjectLockGuard, indexKeys: [ObjectKey], packsNamedBy: [String: [PackID]],
                               in ix: PruneIndex, unindexed: [PackID]) async throws -> (index: Set<String>, packs: Set<Int>, unindexed: [PackID]) {
        let table = ix.table
        var lockedIndex = Set<String>()
        var lockedPacks = Set<Int>()
        for key in indexKeys {
            guard let until = try await lockGuard.lockedUntil(key) else { continue }
            lockedIndex.insert(key.name)
            lockGuard.record(lockedUntil: until)
            for id in packsNamedBy[key.name] ?? [] { if let slot = table.slot(of: id) { lockedPacks.insert(slot) } }
        }
        for i in try PrunePlan.packsThatMayGo(ix, locked: lockedPacks) {
            guard let until = try await lockGuard.lockedUntil(ObjectKey(.data, table.packs[i].id.hex)) else { continue }
            lockedPacks.insert(i)
            lockGuard.record(lockedUntil: until)
        }
        var deletable: [PackID] = []
        for id in unindexed {
            if let until = try await lockGuard.lockedUntil(ObjectKey(.data, id.hex)) { lockGuard.record(lockedUntil: until) } else { deletable.append(id) }
        }
        if lockGuard.deferred.count > 0 { log?("\(lockGuard.deferred.count) index objects and packs are still locked: they stay") }
        return (lockedIndex, lockedPacks, deletable)
    }

    /// Blob (`id`, `type`) read from a usable copy the index names, verified.
    func readVerified(_ id: ChunkID, _ type: BlobType, in ix: PruneIndex) async throws -> [UInt8] {
        guard let r = try ix.locations(id, type).first(where: { ix.usable[$0] }) else {
            throw CairnError.other("\(type) blob \(id.hex) is used by a snapshot but stored in no pack of the index that can be read: prune stops; run 'cairn scrub' and 'cairn repair'")
        }
        return try await repo.readBlob(type, id, at: try ix.location(r))
    }

    /// Marks in `ix` every blob the tree `root` reaches, each tree and list blob entered once
    /// (the walk shared with copy and lock extension: `TreeWalker`, `ListExpander`).
    func mark(_ root: ChunkID, in ix: PruneIndex) async throws {
        try await TreeWalker.walk(root, enter: { id in
            guard let marked = try ix.markMetadata(id, .tree) else {
                throw CairnError.other("tree blob \(id.hex) is used by a snapshot but stored in no pack of the index that can be read: prune stops; run 'cairn scrub' and 'cairn repair'")
            }
            return marked
        }, load: { id in
            if let cached = try repo.index.cachedTree(id) { return try Tree.decode(cached) }
            return try Tree.decode(try await readVerified(id, .tree, in: ix))
        }, visit: { _, node in
            guard node.kind == .file else { return }
            do {
                try await ListExpander.expand(node.content, enter: { id in
                    guard let marked = try ix.markMetadata(id, .list) else {
                        throw CairnError.other("list blob \(id.hex) is used by a snapshot but stored in no pack of the index that can be read: prune stops; run 'cairn scrub' and 'cairn repair'")
                    }
                    return marked
                }, readList: { id in
                    try await readVerified(id, .list, in: ix)
                }, data: { ids in
                    for id in ids where try !ix.markData(id) {
                        throw CairnError.other("data blob \(id.hex) is used but is in no index object: prune stops; run 'cairn scrub' and 'cairn repair'")
                    }
                })
            } catch let e as CairnError {
                if case .other = e { throw e }
                throw CairnError.other("\(describe(e)): prune stops; run 'cairn scrub'")
            } catch let e as FormatError {
                throw CairnError.other("\(describe(e)): prune stops; run 'cairn scrub'")
            }
        })
    }
}

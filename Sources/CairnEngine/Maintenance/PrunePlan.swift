import CairnFormat
import CairnIndex

/// What a prune found before it decides anything: the index with the mark's
/// result (which blobs snapshots use, which copies can be read), the packs no
/// index object names, and what Object Lock keeps. Listed from the store by
/// `Pruner`; built by hand in the tests.
struct PruneFacts {
    /// Every index entry, marked: used blobs, usable copies, bases that must stay whole.
    let index: PruneIndex
    /// Snapshots whose trees were marked, and index objects listed.
    var snapshots = 0
    var indexObjects = 0
    /// Packs in the store that no index object names and nothing locks, with their sizes: deleted whole.
    var unindexed: [PackID: UInt64] = [:]
    /// Slots of packs Object Lock keeps (still locked themselves, or named by a still-locked
    /// index object): neither deleted nor repacked.
    var lockedPacks: Set<Int> = []
    /// The repository's target pack size (its config): what makes a pack small.
    var packSize: UInt64 = 16 << 20
}

/// What a prune does, decided from `PruneFacts` and `PruneOptions` alone,
/// without a store (restic's `PrunePlan`): which packs are deleted, kept,
/// repacked, dropped from the index as missing, or set aside as locked; which
/// copy of a duplicated blob stays (`PruneIndex.chooseCopies`); and what that
/// frees. `Pruner.execute` carries it out.
///
/// A delta blob in a pack that stays must keep its base stored whole: a pack
/// that stays keeps every entry, so an unused delta in it whose base is going
/// would stay indexed and undecodable, and a later backup would dedup against
/// it. Such a pack is repacked (which drops the delta) while the repack budget
/// lasts; beyond it, the base is kept instead. Planning repeats until nothing
/// changes.
struct PrunePlan {
    /// Pack slots (in `facts.index.table`): deleted whole (no used blob), kept as they are,
    /// repacked (used blobs copied into new packs, then deleted), dropped from the index
    /// (missing from the store, holding nothing used), set aside (locked and unused: left
    /// out of the new index and deleted by a later prune).
    private(set) var delete: [Int] = []
    private(set) var keep: [Int] = []
    private(set) var repack: [Int] = []
    private(set) var dropMissing: [Int] = []
    private(set) var setAside: [Int] = []
    /// Packs repacked only because a delta in them would lose its base (part of `repack`).
    private(set) var forcedRepack = Set<Int>()
    /// Packs no index object names, deleted whole, in id order.
    let unindexed: [PackID]
    /// Per kept pack: delta blobs in it whose base is stored whole nowhere (no budget to repack it).
    private(set) var undecodableKept: [Int: Int] = [:]
    /// Unused blobs kept only as bases of deltas that stay (no repack budget).
    private(set) var basesKept = 0
    /// The counts and sizes of the plan, as a prune reports them (no Object Lock, replay or time fields).
    private(set) var summary = PruneResult()

    /// Packs whose fate depends on the mark: present, and holding no used blob or some
    /// unused bytes. Only these are asked whether Object Lock still protects them.
    static func packsThatMayGo(_ ix: PruneIndex, locked: Set<Int>) throws -> [Int] {
        try ix.chooseCopies()
        return ix.table.packs.indices.filter { ix.present[$0] && !locked.contains($0) && (ix.usedCount[$0] == 0 || ix.unusedBytes($0) > 0) }
    }

    init(_ facts: PruneFacts, options: PruneOptions) throws {
        let ix = facts.index
        unindexed = facts.unindexed.keys.sorted()
        let usedAtMark = ix.usedBlobs
        var result = PruneResult()
        while true {
            try ix.chooseCopies()
            result = PruneResult()
            result.dryRun = options.dryRun
            result.snapshots = facts.snapshots
            result.indexObjects = facts.indexObjects
            delete = []; keep = []; dropMissing = []; repack = []; setAside = []
            let (candidates, small) = classify(facts, options: options, counting: &result)
            for size in facts.unindexed.values { result.packs += 1; result.packBytes += size; result.unusedBytes += size }
            var repackBudget = options.maxRepackBytes ?? .max
            chooseRepacks(ix, candidates: candidates, small: small, allowed: options.maxUnused.allowed(usedBytes: result.usedBytes),
                          budget: &repackBudget, counting: &result)
            if try !keepDeltaBases(ix, locked: facts.lockedPacks, repackBudget: &repackBudget) { break }
        }
        basesKept = ix.usedBlobs - usedAtMark
        summary = summarize(result, facts)
    }

    /// Sorts every pack by what the mark left in it: missing (dropped), locked (kept or set
    /// aside), unused (deleted), fully used (kept), and the two kinds whose fate the budgets
    /// decide: small packs and partly used ones (candidates). Counts blobs and bytes on the way.
    private mutating func classify(_ facts: PruneFacts, options: PruneOptions, counting result: inout PruneResult) -> (candidates: [Int], small: [Int]) {
        let ix = facts.index, table = ix.table
        var candidates: [Int] = []
        // Small packs (restic's prune does the same): many one- or two-blob packs left by
        // wal-push and small backups, combined into full packs once there are enough of them.
        let smallLimit = options.smallPackLimit(packSize: facts.packSize)
        var small: [Int] = []
        for i in 0..<table.packs.count {
            guard ix.present[i] else { dropMissing.append(i); continue }
            let p = table.packs[i]
            result.usedBlobs += ix.usedCount[i]
            result.usedBytes += ix.usedBytes[i]
            result.unusedBlobs += p.records.count - ix.usedCount[i]
            result.unusedBytes += ix.unusedBytes(i)
            result.packs += 1
            result.packBytes += p.size
            if facts.lockedPacks.contains(i) {
                if ix.usedCount[i] == 0 { setAside.append(i) } else { keep.append(i) }
                continue
            }
            if ix.usedCount[i] == 0 {
                delete.append(i)
            } else if p.size < smallLimit && !forcedRepack.contains(i) {
                small.append(i)
            } else if ix.unusedBytes(i) == 0 && !forcedRepack.contains(i) {
                keep.append(i)
            } else {
                candidates.append(i)
            }
        }
        if small.count < PruneOptions.minimumSmallPacks {
            // Too few to be worth it: judged like any other pack.
            for i in small { if ix.unusedBytes(i) == 0 { keep.append(i) } else { candidates.append(i) } }
            small = []
        }
        return (candidates, small)
    }

    /// Chooses what is repacked: packs a delta rule forced first, then small packs (smallest
    /// first) while the repack budget lasts, then the candidates with the most unused share
    /// while more than `allowed` unused bytes would stay; the rest is kept.
    private mutating func chooseRepacks(_ ix: PruneIndex, candidates: [Int], small: [Int], allowed: UInt64,
                                        budget repackBudget: inout UInt64, counting result: inout PruneResult) {
        let table = ix.table
        func pack(_ slot: Int) -> IndexEntryTable.Pack { table.packs[slot] }
        var candidates = candidates
        // Most unused first (by share of the pack), then by id: the same plan from the same facts.
        candidates.sort { a, b in
            let fa = Double(ix.unusedBytes(a)) / Double(pack(a).size), fb = Double(ix.unusedBytes(b)) / Double(pack(b).size)
            return fa != fb ? fa > fb : pack(a).id < pack(b).id
        }
        var unusedLeft = candidates.reduce(UInt64(0)) { $0 + ix.unusedBytes($1) }
        for i in candidates where forcedRepack.contains(i) {
            repack.append(i)
            repackBudget -= min(repackBudget, pack(i).size)
            unusedLeft -= ix.unusedBytes(i)
        }
        // Small packs next, smallest first (by id on ties), while the repack budget lasts.
        let small = small.sorted { pack($0).size != pack($1).size ? pack($0).size < pack($1).size : pack($0).id < pack($1).id }
        var smallRepacked = 0
        for i in small {
            if pack(i).size <= repackBudget {
                repack.append(i)
                repackBudget -= pack(i).size
                smallRepacked += 1
            } else if ix.unusedBytes(i) == 0 {
                keep.append(i)
            } else {
                candidates.append(i)
                unusedLeft += ix.unusedBytes(i)
            }
        }
        result.smallPacksRepacked = smallRepacked
        for i in candidates where !forcedRepack.contains(i) {
            if unusedLeft > allowed && pack(i).size <= repackBudget {
                repack.append(i)
                repackBudget -= pack(i).size
                unusedLeft -= ix.unusedBytes(i)
            } else {
                keep.append(i)
            }
        }
        result.unusedBytesKept = unusedLeft
    }

    /// The plan's counts and sizes once the delta rule settled.
    private func summarize(_ counted: PruneResult, _ facts: PruneFacts) -> PruneResult {
        let ix = facts.index, table = ix.table
        func pack(_ slot: Int) -> IndexEntryTable.Pack { table.packs[slot] }
        var result = counted
        result.packsRepackedForDeltas = repack.filter { forcedRepack.contains($0) }.count
        result.deltaBasesKept = ix.basesKept
        result.undecodableBlobsKept = undecodableKept.values.reduce(0, +)
        result.packsDeleted = delete.count + unindexed.count
        result.unindexedPacksDeleted = unindexed.count
        result.bytesDeleted = delete.reduce(0) { $0 + pack($1).size } + facts.unindexed.values.reduce(0, +)
        result.missingPacksDropped = dropMissing.count
        result.packsRepacked = repack.count
        result.bytesRepacked = repack.reduce(0) { $0 + pack($1).size }
        result.blobsRepacked = repack.reduce(0) { $0 + ix.usedCount[$1] }
        result.indexRewritten = changesPacks || facts.indexObjects > 1
        return result
    }

    /// One pass of the delta rule over the kept packs: a kept pack with a delta whose base
    /// would not stay whole is repacked (budget allowing, not locked), else that base is
    /// kept as used. True when anything changed, so the plan is made again.
    private mutating func keepDeltaBases(_ ix: PruneIndex, locked: Set<Int>, repackBudget: inout UInt64) throws -> Bool {
        let table = ix.table
        // The whole data blobs the index will still name: every entry of a pack that
        // stays, and the used blobs copied out of repacked packs.
        var isKeep = [Bool](repeating: false, count: table.packs.count), isRepack = isKeep
        for i in keep { isKeep[i] = true }
        for i in repack { isRepack[i] = true }
        func staysWhole(_ id: ChunkID) throws -> Bool {
            try table.records(id, .data).contains { r in
                let s = table.slot(ofRecord: r)
                return !table.isDelta[r] && (isKeep[s] || (isRepack[s] && ix.chosen[r]))
            }
        }
        var changed = false
        undecodableKept = [:]
        for i in keep {
            let range = table.packs[i].records
            guard range.contains(where: { table.isDelta[$0] }) else { continue }
            var dangling: [ChunkID] = []
            try table.forEachRecord(in: range) { _, rec in
                if let base = rec.base, try !staysWhole(base) { dangling.append(base) }
            }
            guard !dangling.isEmpty else { continue }
            if table.packs[i].size <= repackBudget && !locked.contains(i) {
                forcedRepack.insert(i)
                repackBudget -= table.packs[i].size
                changed = true
                continue
            }
            var lost = 0
            for b in dangling {
                if try ix.storedWhole(b) {
                    if try ix.keepAsBase(b) { changed = true }
                } else {
                    lost += 1
                }
            }
            if lost > 0 { undecodableKept[i] = lost }
        }
        return changed
    }

    /// Whether the plan changes which packs the index names (else only several index objects would be merged).
    var changesPacks: Bool {
        !delete.isEmpty || !unindexed.isEmpty || !repack.isEmpty || !dropMissing.isEmpty || !setAside.isEmpty
    }

    /// Stored bytes of the blobs chosen to stay in the packs to repack: about what the repack writes again.
    func usedBytesRepacked(_ ix: PruneIndex) -> UInt64 { repack.reduce(0) { $0 + ix.usedBytes[$1] } }
}

import CairnCrypto
import CairnFormat
import CairnIndex
import CairnStorage

/// How much prune may leave and rewrite.
public struct PruneOptions: Sendable {
    public enum MaxUnused: Sendable, Equatable, CustomStringConvertible {
        /// Unused bytes may be this share (0…100) of all bytes after the prune.
        case percent(Double)
        case bytes(UInt64)
        case unlimited

        public var description: String {
            switch self {
            case .percent(let p): return "\(p)%"
            case .bytes(let b): return "\(b) bytes"
            case .unlimited: return "unlimited"
            }
        }
    }

    public var maxUnused: MaxUnused = .percent(5)
    /// Total size of packs that may be repacked; nil for no limit, 0 to only delete.
    public var maxRepackBytes: UInt64? = nil
    public var dryRun = false
    public init() {}

    /// `5%`, `0`, `200M`, `unlimited`.
    public static func parseMaxUnused(_ text: String) -> MaxUnused? {
        if text == "unlimited" { return .unlimited }
        if text.hasSuffix("%") {
            guard let p = Double(text.dropLast()), p >= 0, p < 100 else { return nil }
            return .percent(p)
        }
        return parseSize(text).map { .bytes($0) }
    }

    /// Bytes: `0`, `1048576`, `500K`, `200M`, `2G`, `1T` (powers of 1024; a trailing `B`/`iB` is allowed).
    public static func parseSize(_ text: String) -> UInt64? {
        var t = text.uppercased()
        if t.hasSuffix("IB") { t.removeLast(2) } else if t.hasSuffix("B") { t.removeLast() }
        var mult: UInt64 = 1
        if let last = t.last, let i = "KMGT".firstIndex(of: last) {
            mult = UInt64(1) << (10 * UInt64("KMGT".distance(from: "KMGT".startIndex, to: i) + 1))
            t.removeLast()
        }
        guard let n = UInt64(t) else { return nil }
        let (v, overflow) = n.multipliedReportingOverflow(by: mult)
        return overflow ? nil : v
    }
}

/// What a prune found and did (or, with dry run, would do).
public struct PruneResult: Sendable, Codable {
    public var dryRun = false
    public var snapshots = 0
    public var indexObjects = 0
    public var packs = 0
    public var packBytes: UInt64 = 0
    public var usedBlobs = 0
    public var usedBytes: UInt64 = 0
    public var unusedBlobs = 0
    public var unusedBytes: UInt64 = 0
    /// Packs holding no used blob, deleted whole.
    public var packsDeleted = 0
    public var bytesDeleted: UInt64 = 0
    /// Packs in the store that no index object names (left by stopped backups or prunes); part of packsDeleted.
    public var unindexedPacksDeleted = 0
    /// Packs named by the index but missing from the store, holding only unused blobs: dropped from the index.
    public var missingPacksDropped = 0
    public var packsRepacked = 0
    public var bytesRepacked: UInt64 = 0
    public var blobsRepacked = 0
    public var packsWritten = 0
    public var bytesWritten: UInt64 = 0
    /// Unused bytes left in partly used packs that were not worth repacking.
    public var unusedBytesKept: UInt64 = 0
    /// Snapshots a forget had removed that were in the store again (replayed): removed again.
    public var replayedSnapshotsRemoved = 0
    /// Packs repacked only to drop delta blobs whose base was going (part of packsRepacked).
    public var packsRepackedForDeltas = 0
    /// Unused whole blobs kept because a delta in a pack that stays needs them (no repack budget).
    public var deltaBasesKept = 0
    /// Delta blobs whose base is stored nowhere left in packs that stay (no repack budget):
    /// never reused, but scrub reports them and 'cairn repair' drops them.
    public var undecodableBlobsKept = 0
    /// Objects left in place because S3 Object Lock still protects them (Docs/immutability.md),
    /// and the first and last time one of them becomes deletable (RFC 3339).
    public var lockedObjectsKept = 0
    public var lockedUntilEarliest: String?
    public var lockedUntilLatest: String?
    public var bytesFreed: UInt64 = 0
    public var indexRewritten = false
    public var storedBytesAfter: UInt64 = 0
    public var seconds = 0.0

    enum CodingKeys: String, CodingKey {
        case dryRun = "dry_run", snapshots, indexObjects = "index_objects", packs, packBytes = "pack_bytes"
        case usedBlobs = "used_blobs", usedBytes = "used_bytes", unusedBlobs = "unused_blobs", unusedBytes = "unused_bytes"
        case packsDeleted = "packs_deleted", bytesDeleted = "bytes_deleted", unindexedPacksDeleted = "unindexed_packs_deleted"
        case missingPacksDropped = "missing_packs_dropped", packsRepacked = "packs_repacked", bytesRepacked = "bytes_repacked"
        case blobsRepacked = "blobs_repacked", packsWritten = "packs_written", bytesWritten = "bytes_written"
        case unusedBytesKept = "unused_bytes_kept", packsRepackedForDeltas = "packs_repacked_for_deltas"
        case replayedSnapshotsRemoved = "replayed_snapshots_removed"
        case lockedObjectsKept = "locked_objects_kept", lockedUntilEarliest = "locked_until_earliest", lockedUntilLatest = "locked_until_latest"
        case deltaBasesKept = "delta_bases_kept", undecodableBlobsKept = "undecodable_blobs_kept", bytesFreed = "bytes_freed", indexRewritten = "index_rewritten"
        case storedBytesAfter = "stored_bytes_after", seconds
    }
}

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

    public func run() async throws -> PruneResult {
        let started = Clock.monotonic()
        var result = PruneResult()
        result.dryRun = options.dryRun

        // 1. What the store says: snapshots, index objects, packs. Anything unreadable stops the prune.
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
        // Object Lock: what is still locked is never deleted (nil without a lock).
        let lockGuard = ObjectLockGuard(repo: repo)
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
        result.snapshots = roots.count
        let indexKeys = try await repo.store.list(.index)
        result.indexObjects = indexKeys.count
        // Every entry of every index object, in a table on disk with 12 bytes a blob in memory
        // (a pack named by several index objects counts as the first names it).
        let table = try IndexEntryTable(directory: repo.cacheDirectory, repeatedPacks: .keepFirst)
        var packsNamedBy: [String: [ChunkID]] = [:]
        for key in indexKeys.sorted(by: { $0.name < $1.name }) {
            let delta: IndexDelta
            do { delta = try IndexDelta.decode(try repo.keys.openObject(.index, try await MetadataObjects.read(repo.store, key))) } catch {
                throw CairnError.other("index object \(key.name.prefix(12)) cannot be read (\(describe(error))): prune stops; run 'cairn index rebuild --read-packs' first")
            }
            if lockGuard != nil { packsNamedBy[key.name] = delta.packs.map(\.id) }
            for p in delta.packs { try table.add(p) }
        }
        try table.finish()
        let stored = Set(try await repo.store.list(.data).compactMap { ChunkID(hex: $0.name) })
        var unindexed = stored.filter { table.slot(of: $0) == nil }.sorted()
        let packCount = table.packs.count
        log?("\(roots.count) snapshots, \(indexKeys.count) index objects, \(packCount) indexed packs, \(unindexed.count) unindexed packs")
        let ix = try PruneIndex(table: table, present: table.packs.map { stored.contains($0.id) })
        log?("index: \(table.recordCount) entries, \(ix.memoryBytes >> 20) MiB in memory (the entries themselves in a scratch file in \(repo.cacheDirectory))")
        func pack(_ slot: Int) -> IndexEntryTable.Pack { table.packs[slot] }

        // 2. Mark: every blob a snapshot reaches.
        func readVerified(_ id: ChunkID, _ type: BlobType) async throws -> [UInt8] {
            guard let r = try ix.locations(id, type).first(where: { ix.usable[$0] }) else {
                throw CairnError.other("\(type) blob \(id.hex) is used by a snapshot but stored in no pack of the index that can be read: prune stops; run 'cairn scrub' and 'cairn repair'")
            }
            return try await repo.readBlob(type, id, at: try ix.location(r))
        }
        func markContent(_ c: ContentRef) async throws {
            if c.level == 0 {
                for id in c.ids where try !ix.markData(id) {
                    throw CairnError.other("data blob \(id.hex) is used but is in no index object: prune stops; run 'cairn scrub' and 'cairn repair'")
                }
                return
            }
            for id in c.ids {
                guard let marked = try ix.markMetadata(id, .list) else {
                    throw CairnError.other("list blob \(id.hex) is used by a snapshot but stored in no pack of the index that can be read: prune stops; run 'cairn scrub' and 'cairn repair'")
                }
                guard marked else { continue }
                let plain = try await readVerified(id, .list)
                let child: ContentRef
                do { child = try c.child(id, plaintext: plain) } catch {
                    throw CairnError.other("\(describe(error)): prune stops; run 'cairn scrub'")
                }
                try await markContent(child)
            }
        }
        func markTree(_ id: ChunkID) async throws {
            guard let marked = try ix.markMetadata(id, .tree) else {
                throw CairnError.other("tree blob \(id.hex) is used by a snapshot but stored in no pack of the index that can be read: prune stops; run 'cairn scrub' and 'cairn repair'")
            }
            guard marked else { return }
            let plain: [UInt8]
            if let cached = try repo.index.cachedTree(id) { plain = cached } else { plain = try await readVerified(id, .tree) }
            for node in try Tree.decode(plain).nodes {
                switch node.kind {
                case .file: try await markContent(node.content)
                case .directory: if let sub = node.subtree { try await markTree(sub) }
                case .symlink, .fifo, .characterDevice, .blockDevice, .socket: break
                }
            }
        }
        for root in roots {
            try await markTree(root)
            progress.update { $0.filesDone += 1 }
        }
        // A base named by any usable copy of a used delta blob is used too (format-spec §8).
        try ix.markBasesOfUsedDeltas()

        // Every used blob must be stored somewhere that can be read.
        if let (type, id, locations) = try ix.firstUnstoredUsedBlob() {
            let why: String
            if !locations.contains(where: { ix.present[table.slot(ofRecord: $0)] }) {
                why = "its packs (\(locations.map { pack(table.slot(ofRecord: $0)).id.hex.prefix(12) }.joined(separator: ", "))) are missing from the store"
            } else {
                why = "every stored copy is a delta whose base is stored whole nowhere"
            }
            throw CairnError.other("\(type) blob \(id.hex) is used but \(why): prune stops; run 'cairn scrub' and 'cairn repair'")
        }

        // Object Lock (Docs/immutability.md): an index object still locked stays, so every pack it
        // names stays too (format-spec §20: while an index object exists, so do its packs); a pack
        // still locked is neither deleted nor repacked. Such packs holding nothing used are left out
        // of the new index and deleted by a later prune, once nothing locks them.
        var lockedIndex = Set<String>()
        var lockedPacks = Set<Int>()
        if let lockGuard {
            for key in indexKeys {
                guard let until = try await lockGuard.lockedUntil(key) else { continue }
                lockedIndex.insert(key.name)
                lockGuard.record(lockedUntil: until)
                for id in packsNamedBy[key.name] ?? [] { if let slot = table.slot(of: id) { lockedPacks.insert(slot) } }
            }
            try ix.chooseCopies()
            for i in 0..<packCount where ix.present[i] && !lockedPacks.contains(i) && (ix.usedCount[i] == 0 || ix.unusedBytes(i) > 0) {
                guard let until = try await lockGuard.lockedUntil(ObjectKey(.data, pack(i).id.hex)) else { continue }
                lockedPacks.insert(i)
                lockGuard.record(lockedUntil: until)
            }
            var deletable: [ChunkID] = []
            for id in unindexed {
                if let until = try await lockGuard.lockedUntil(ObjectKey(.data, id.hex)) { lockGuard.record(lockedUntil: until) } else { deletable.append(id) }
            }
            unindexed = deletable
            if lockGuard.deferred.count > 0 { log?("\(lockGuard.deferred.count) index objects and packs are still locked: they stay") }
        }

        // 3. Plan, until every delta in a pack that stays has its base staying whole: a pack
        // that stays keeps every entry, so an unused delta in it whose base is going would
        // stay indexed and undecodable, and a later backup would dedup against it. Such a
        // pack is repacked (which drops the delta) while the repack budget lasts; beyond it,
        // the base is kept instead.
        var delete: [Int] = [], keep: [Int] = [], dropMissing: [Int] = [], repack: [Int] = []
        var setAside: [Int] = []   // locked and unused: neither deleted nor indexed
        var forcedRepack = Set<Int>()
        var undecodableKept: [Int: Int] = [:]   // pack -> deltas whose base exists nowhere (no budget to repack it)
        let usedAtMark = ix.usedBlobs
        var unindexedSizes: [ChunkID: UInt64] = [:]
        for id in unindexed { unindexedSizes[id] = try await repo.store.size(ObjectKey(.data, id.hex)) ?? 0 }
        while true {
            try ix.chooseCopies()
            indexMemoryBytes = max(indexMemoryBytes, ix.memoryBytes)
            result = PruneResult()
            result.dryRun = options.dryRun
            result.snapshots = roots.count
            result.indexObjects = indexKeys.count
            delete = []; keep = []; dropMissing = []; repack = []; setAside = []
            var candidates: [Int] = []
            for i in 0..<packCount {
                guard ix.present[i] else { dropMissing.append(i); continue }
                let p = pack(i)
                result.usedBlobs += ix.usedCount[i]
                result.usedBytes += ix.usedBytes[i]
                result.unusedBlobs += p.records.count - ix.usedCount[i]
                result.unusedBytes += ix.unusedBytes(i)
                result.packs += 1
                result.packBytes += p.size
                if lockedPacks.contains(i) {
                    if ix.usedCount[i] == 0 { setAside.append(i) } else { keep.append(i) }
                    continue
                }
                if ix.usedCount[i] == 0 { delete.append(i) } else if ix.unusedBytes(i) == 0 && !forcedRepack.contains(i) { keep.append(i) } else { candidates.append(i) }
            }
            for size in unindexedSizes.values { result.packs += 1; result.packBytes += size; result.unusedBytes += size }
            let usedTotal = result.usedBytes
            let allowed: UInt64
            switch options.maxUnused {
            case .unlimited: allowed = .max
            case .bytes(let b): allowed = b
            case .percent(let pct): allowed = UInt64(Double(usedTotal) * pct / (100 - pct))
            }
            candidates.sort { a, b in
                let fa = Double(ix.unusedBytes(a)) / Double(pack(a).size), fb = Double(ix.unusedBytes(b)) / Double(pack(b).size)
                return fa != fb ? fa > fb : pack(a).id < pack(b).id
            }
            var unusedLeft = candidates.reduce(UInt64(0)) { $0 + ix.unusedBytes($1) }
            var repackBudget = options.maxRepackBytes ?? .max
            for i in candidates where forcedRepack.contains(i) {
                repack.append(i)
                repackBudget -= min(repackBudget, pack(i).size)
                unusedLeft -= ix.unusedBytes(i)
            }
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

            // The whole data blobs the index will still name: every entry of a pack that
            // stays, and the used blobs copied out of repacked packs.
            var isKeep = [Bool](repeating: false, count: packCount), isRepack = isKeep
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
                let range = pack(i).records
                guard range.contains(where: { table.isDelta[$0] }) else { continue }
                var dangling: [ChunkID] = []
                try table.forEachRecord(in: range) { _, rec in
                    if let base = rec.base, try !staysWhole(base) { dangling.append(base) }
                }
                guard !dangling.isEmpty else { continue }
                if pack(i).size <= repackBudget && !lockedPacks.contains(i) {
                    forcedRepack.insert(i)
                    repackBudget -= pack(i).size
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
            if !changed { break }
        }
        if ix.usedBlobs > usedAtMark { log?("kept \(ix.usedBlobs - usedAtMark) unused blobs as delta bases (repack budget exhausted)") }
        result.replayedSnapshotsRemoved = replayed.count
        result.packsRepackedForDeltas = repack.filter { forcedRepack.contains($0) }.count
        result.deltaBasesKept = ix.basesKept
        result.undecodableBlobsKept = undecodableKept.values.reduce(0, +)
        if !undecodableKept.isEmpty {
            log?("\(result.undecodableBlobsKept) delta blobs whose base is stored nowhere stay in \(undecodableKept.count) packs (no repack budget left)")
        }
        if let lockGuard {
            let d = lockGuard.deferred
            result.lockedObjectsKept = d.count
            result.lockedUntilEarliest = d.earliest.map(ObjectLockGuard.utc)
            result.lockedUntilLatest = d.latest.map(ObjectLockGuard.utc)
            if !setAside.isEmpty { log?("\(setAside.count) unused packs stay, locked, out of the new index") }
        }
        result.packsDeleted = delete.count + unindexed.count
        result.unindexedPacksDeleted = unindexed.count
        result.bytesDeleted = delete.reduce(0) { $0 + pack($1).size } + unindexedSizes.values.reduce(0, +)
        result.missingPacksDropped = dropMissing.count
        result.packsRepacked = repack.count
        result.bytesRepacked = repack.reduce(0) { $0 + pack($1).size }
        result.blobsRepacked = repack.reduce(0) { $0 + ix.usedCount[$1] }
        let changes = !delete.isEmpty || !unindexed.isEmpty || !repack.isEmpty || !dropMissing.isEmpty || !setAside.isEmpty
        result.indexRewritten = changes || indexKeys.count > 1
        log?("plan: delete \(result.packsDeleted) packs, repack \(repack.count), keep \(keep.count); \(result.unusedBytesKept) unused bytes stay")

        if options.dryRun || !result.indexRewritten {
            result.bytesFreed = result.bytesDeleted + result.bytesRepacked - (result.bytesRepacked > 0 ? repack.reduce(0) { $0 + ix.usedBytes[$1] } : 0)
            result.storedBytesAfter = result.packBytes - result.bytesFreed
            result.seconds = Clock.monotonic() - started
            return result
        }

        // 4. Repack: copy each used blob, verified, into new packs. The new packs go into the
        // new index as they are stored (a part at a time), so no entry is held for long.
        let newIndex = IndexDeltaWriter(repo: repo)
        newIndex.beforeWrite = commitCheck
        let writers: [PackType: PackWriter] = [.data: PackWriter(repo: repo, type: .data), .metadata: PackWriter(repo: repo, type: .metadata)]
        for w in writers.values { w.onWritten = { try await newIndex.add($0) } }
        for i in repack {
            let p = try table.pack(i)
            // As large as the index says, however large the object in the store has become.
            let bytes = try await repo.store.get(ObjectKey(.data, p.id.hex), offset: 0, length: Int(p.size))
            var bases: [ChunkID: [UInt8]] = [:]   // verified base plaintexts of this pack's deltas
            for (j, e) in p.entries.enumerated() where ix.chosen[pack(i).records.lowerBound + j] {
                guard Int(e.offset) + Int(e.length) <= bytes.count else {
                    throw CairnError.damagedBlob(blob: e.id.hex, pack: p.id.hex, reason: "pack is truncated (prune stopped before deleting anything)")
                }
                let sealed = bytes[Int(e.offset)..<Int(e.offset) + Int(e.length)]
                var base: (id: ChunkID, plaintext: [UInt8])? = nil
                if let b = e.base {
                    if bases[b] == nil { bases[b] = try await readVerified(b, .data) }
                    base = (b, bases[b]!)
                }
                do { _ = try repo.codec.open(Array(sealed), type: e.type, id: e.id, rawLength: e.rawLength, base: base) } catch let d as BlobDamage {
                    throw CairnError.damagedBlob(blob: e.id.hex, pack: p.id.hex, reason: "\(d.reason) (prune stopped before deleting anything; run 'cairn scrub' and 'cairn repair')")
                }
                try await writers[e.type.packType]!.add(sealed: sealed, type: e.type, id: e.id, rawLength: e.rawLength, base: e.base)
            }
            progress.update { $0.bytesDone += p.size }
        }
        for w in writers.values { try await w.flush() }
        result.packsWritten = writers.values.reduce(0) { $0 + $1.packsWritten }
        result.bytesWritten = writers.values.reduce(0) { $0 + $1.bytesWritten }
        log?("wrote \(result.packsWritten) new packs")

        // 5. Index deltas naming every pack that stays, the last superseding every old index object.
        try await commitCheck?()
        for i in keep.sorted() { try await newIndex.add(try table.pack(i)) }
        let written = Set(try await newIndex.finish(supersedes: indexKeys.compactMap { ChunkID(hex: $0.name) }))
        log?("wrote \(written.count) index object(s) naming \(keep.count + result.packsWritten) packs")

        // 6. Delete the old index objects, then 7. the packs no index names any more.
        try await commitCheck?()
        func remove(_ key: ObjectKey) async throws {
            if let lockGuard { try await lockGuard.delete(key) } else { try await repo.store.delete(key) }
        }
        for key in indexKeys where !written.contains(key.name) && !lockedIndex.contains(key.name) { try await remove(key) }
        try await commitCheck?()
        for i in delete + repack { try await remove(ObjectKey(.data, pack(i).id.hex)) }
        for id in unindexed { try await remove(ObjectKey(.data, id.hex)) }
        log?("deleted \(indexKeys.count) index objects and \(delete.count + repack.count + unindexed.count) packs")

        result.bytesFreed = result.bytesDeleted + result.bytesRepacked - result.bytesWritten
        result.storedBytesAfter = result.packBytes - result.bytesFreed
        result.seconds = Clock.monotonic() - started
        try await repo.sync()
        return result
    }
}

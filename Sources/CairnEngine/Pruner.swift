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

    public init(repo: Repository, options: PruneOptions = PruneOptions(), progress: WorkProgress = WorkProgress()) {
        self.repo = repo; self.options = options; self.progress = progress
    }

    struct BlobKey: Hashable { let id: ChunkID; let type: BlobType }
    /// A blob's place: which pack (index into the plan's packs) and which entry of it.
    struct Loc: Hashable { let slot: Int32; let entry: Int32 }

    /// One pack as the plan sees it.
    struct PackState {
        var pack: IndexedPack
        var present = true
        var usedBytes: UInt64 = 0      // of the blobs chosen to stay in this pack
        var usedCount = 0
        var candidateBytes: UInt64 = 0 // of used blobs stored here, chosen or not (for choosing among duplicates)
        var unusedBytes: UInt64 { pack.entries.reduce(0) { $0 + UInt64($1.length) } - usedBytes }
    }

    public func run() async throws -> PruneResult {
        let started = Clock.monotonic()
        var result = PruneResult()
        result.dryRun = options.dryRun

        // 1. What the store says: snapshots, index objects, packs. Anything unreadable stops the prune.
        let snapshotKeys = try await repo.store.list(.snapshots)
        // A snapshot a forget record names was removed by 'forget': one in the store again was
        // put back (a replay). It is no root, and it goes again (format-spec §20).
        let records = try await ForgetRecords.load(repo)
        for r in records.unreadable { log?("forget record \(r.name.prefix(12)) cannot be read (\(r.problem)): the snapshots it names count as live") }
        let replayed = snapshotKeys.map(\.name).filter { records.forgotten[$0] != nil }.sorted()
        if !replayed.isEmpty {
            log?("\(replayed.count) snapshot(s) removed by forget are in the store again (replayed): removing them again")
            if !options.dryRun {
                try await commitCheck?()
                for id in replayed {
                    try await repo.store.delete(ObjectKey(.snapshots, id))
                    try repo.index.removeSnapshot(id: id)
                }
            }
        }
        var roots: [ChunkID] = []
        for key in snapshotKeys where records.forgotten[key.name] == nil {
            do {
                roots.append(try Snapshot.decode(try repo.keys.openObject(.snapshot, try await MetadataObjects.read(repo.store, key))).root)
            } catch {
                throw CairnError.other("snapshot \(key.name.prefix(12)) cannot be read (\(describe(error))): prune stops, since it cannot tell what that snapshot uses; run 'cairn scrub' and 'cairn repair'")
            }
        }
        result.snapshots = roots.count
        let indexKeys = try await repo.store.list(.index)
        result.indexObjects = indexKeys.count
        var packs: [PackState] = []
        var packSlot: [ChunkID: Int] = [:]
        for key in indexKeys.sorted(by: { $0.name < $1.name }) {
            let delta: IndexDelta
            do { delta = try IndexDelta.decode(try repo.keys.openObject(.index, try await MetadataObjects.read(repo.store, key))) } catch {
                throw CairnError.other("index object \(key.name.prefix(12)) cannot be read (\(describe(error))): prune stops; run 'cairn index rebuild --read-packs' first")
            }
            for p in delta.packs where packSlot[p.id] == nil {
                packSlot[p.id] = packs.count
                packs.append(PackState(pack: p))
            }
        }
        let stored = Set(try await repo.store.list(.data).compactMap { ChunkID(hex: $0.name) })
        for i in packs.indices where !stored.contains(packs[i].pack.id) { packs[i].present = false }
        let unindexed = stored.filter { packSlot[$0] == nil }.sorted()
        log?("\(roots.count) snapshots, \(indexKeys.count) index objects, \(packs.count) indexed packs, \(unindexed.count) unindexed packs")

        // Where each blob is: the first location, and any further ones (duplicates are rare).
        var first: [BlobKey: Loc] = [:]
        var more: [BlobKey: [Loc]] = [:]
        first.reserveCapacity(packs.reduce(0) { $0 + $1.pack.entries.count })
        for (i, p) in packs.enumerated() {
            for (j, e) in p.pack.entries.enumerated() {
                let k = BlobKey(id: e.id, type: e.type), l = Loc(slot: Int32(i), entry: Int32(j))
                if first[k] == nil { first[k] = l } else if first[k]!.slot != l.slot { more[k, default: []].append(l) }
            }
        }
        func locations(_ k: BlobKey) -> [Loc] {
            guard let f = first[k] else { return [] }
            guard let m = more[k] else { return [f] }
            return [f] + m
        }
        func entry(_ l: Loc) -> BlobEntry { packs[Int(l.slot)].pack.entries[Int(l.entry)] }
        // A delta blob can be decoded only while its base is stored whole in a pack that exists
        // (format-spec §8). A delta whose base is gone (left by an older prune, or by a writer
        // killed at the wrong moment) is no copy at all: it is never chosen, never read, and a
        // pack holding it does not stay as it is (below).
        var wholeStored = Set<ChunkID>()
        for p in packs where p.present {
            for e in p.pack.entries where e.type == .data && e.base == nil { wholeStored.insert(e.id) }
        }
        func usable(_ l: Loc) -> Bool {
            guard packs[Int(l.slot)].present else { return false }
            guard let base = entry(l).base else { return true }
            return wholeStored.contains(base)
        }
        func usableLocations(_ k: BlobKey) -> [Loc] { locations(k).filter(usable) }

        // 2. Mark: every blob a snapshot reaches.
        var used = Set<BlobKey>()
        func readVerified(_ k: BlobKey) async throws -> [UInt8] {
            guard let l = usableLocations(k).first else {
                throw CairnError.other("\(k.type) blob \(k.id.hex) is used by a snapshot but stored in no pack of the index that can be read: prune stops; run 'cairn scrub' and 'cairn repair'")
            }
            let e = entry(l)
            return try await repo.readBlob(k.type, k.id, at: BlobLocation(pack: packs[Int(l.slot)].pack.id, offset: e.offset, length: e.length, rawLength: e.rawLength, base: e.base))
        }
        func markContent(_ c: ContentRef) async throws {
            if c.level == 0 {
                for id in c.ids { used.insert(BlobKey(id: id, type: .data)) }
                return
            }
            for id in c.ids where used.insert(BlobKey(id: id, type: .list)).inserted {
                let plain = try await readVerified(BlobKey(id: id, type: .list))
                let child: ContentRef
                do { child = try c.child(id, plaintext: plain) } catch {
                    throw CairnError.other("\(describe(error)): prune stops; run 'cairn scrub'")
                }
                try await markContent(child)
            }
        }
        func markTree(_ id: ChunkID) async throws {
            let k = BlobKey(id: id, type: .tree)
            guard used.insert(k).inserted else { return }
            let plain: [UInt8]
            if let cached = try repo.index.cachedTree(id), !locations(k).isEmpty { plain = cached } else { plain = try await readVerified(k) }
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
        // A base named by any usable copy of a used delta blob is used too (format-spec §8):
        // whichever copy stays, its base must stay, and stay whole (`wholeNeeded`: a chunk can
        // be stored both whole and as a delta, and only a whole copy can serve as a base).
        var wholeNeeded = Set<ChunkID>()
        func markBases(of keys: [BlobKey]) {
            var frontier = keys.filter { $0.type == .data }
            while let k = frontier.popLast() {
                for l in locations(k) where usable(l) {
                    guard let base = entry(l).base else { continue }
                    wholeNeeded.insert(base)
                    let bk = BlobKey(id: base, type: .data)
                    if used.insert(bk).inserted { frontier.append(bk) }
                }
            }
        }
        markBases(of: Array(used))

        // Every used blob must be stored somewhere that can be read.
        for k in used where !locations(k).contains(where: usable) {
            let all = locations(k)
            let why: String
            if all.isEmpty {
                why = "is in no index object"
            } else if !all.contains(where: { packs[Int($0.slot)].present }) {
                why = "its packs (\(all.map { packs[Int($0.slot)].pack.id.hex.prefix(12) }.joined(separator: ", "))) are missing from the store"
            } else {
                why = "every stored copy is a delta whose base is stored whole nowhere"
            }
            throw CairnError.other("\(k.type) blob \(k.id.hex) is used but \(why): prune stops; run 'cairn scrub' and 'cairn repair'")
        }

        // Duplicates stay in the pack whose share of used bytes is highest; a blob other deltas
        // need as their base stays in a copy stored whole.
        var chosenCopy: [BlobKey: Loc] = [:]   // only where it is not `first[k]`
        func best(_ locs: [Loc]) -> Loc {
            locs.max { a, b in
                let pa = packs[Int(a.slot)], pb = packs[Int(b.slot)]
                let ra = Double(pa.candidateBytes) / Double(max(pa.pack.size, 1)), rb = Double(pb.candidateBytes) / Double(max(pb.pack.size, 1))
                return ra != rb ? ra < rb : pa.pack.id > pb.pack.id
            }!
        }
        func chooseCopies() {
            for i in packs.indices { packs[i].candidateBytes = 0; packs[i].usedBytes = 0; packs[i].usedCount = 0 }
            for k in used { for l in locations(k) where usable(l) { packs[Int(l.slot)].candidateBytes += UInt64(entry(l).length) } }
            chosenCopy.removeAll(keepingCapacity: true)
            for k in used {
                var l = first[k]!
                let mustBeWhole = k.type == .data && wholeNeeded.contains(k.id)
                if more[k] != nil || !usable(l) || (mustBeWhole && entry(l).base != nil) {
                    var locs = locations(k).filter(usable)
                    if mustBeWhole { locs = locs.filter { entry($0).base == nil } }
                    l = best(locs)
                    if l != first[k]! { chosenCopy[k] = l }
                }
                packs[Int(l.slot)].usedBytes += UInt64(entry(l).length)
                packs[Int(l.slot)].usedCount += 1
            }
        }
        func isChosen(_ k: BlobKey, _ l: Loc) -> Bool { used.contains(k) && (chosenCopy[k] ?? first[k]!) == l }

        // 3. Plan, until every delta in a pack that stays has its base staying whole: a pack
        // that stays keeps every entry, so an unused delta in it whose base is going would
        // stay indexed and undecodable, and a later backup would dedup against it. Such a
        // pack is repacked (which drops the delta) while the repack budget lasts; beyond it,
        // the base is kept instead.
        var delete: [Int] = [], keep: [Int] = [], dropMissing: [Int] = [], repack: [Int] = []
        var forcedRepack = Set<Int>()
        var basesKept = Set<ChunkID>()
        var undecodableKept: [Int: Int] = [:]   // pack -> deltas whose base exists nowhere (no budget to repack it)
        let usedAtMark = used.count
        var unindexedSizes: [ChunkID: UInt64] = [:]
        for id in unindexed { unindexedSizes[id] = try await repo.store.size(ObjectKey(.data, id.hex)) ?? 0 }
        while true {
            chooseCopies()
            result = PruneResult()
            result.dryRun = options.dryRun
            result.snapshots = roots.count
            result.indexObjects = indexKeys.count
            delete = []; keep = []; dropMissing = []; repack = []
            var candidates: [Int] = []
            for i in packs.indices {
                let p = packs[i]
                guard p.present else { dropMissing.append(i); continue }
                result.usedBlobs += p.usedCount
                result.usedBytes += p.usedBytes
                result.unusedBlobs += p.pack.entries.count - p.usedCount
                result.unusedBytes += p.unusedBytes
                result.packs += 1
                result.packBytes += p.pack.size
                if p.usedCount == 0 { delete.append(i) } else if p.unusedBytes == 0 && !forcedRepack.contains(i) { keep.append(i) } else { candidates.append(i) }
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
                let fa = Double(packs[a].unusedBytes) / Double(packs[a].pack.size), fb = Double(packs[b].unusedBytes) / Double(packs[b].pack.size)
                return fa != fb ? fa > fb : packs[a].pack.id < packs[b].pack.id
            }
            var unusedLeft = candidates.reduce(UInt64(0)) { $0 + packs[$1].unusedBytes }
            var repackBudget = options.maxRepackBytes ?? .max
            for i in candidates where forcedRepack.contains(i) {
                repack.append(i)
                repackBudget -= min(repackBudget, packs[i].pack.size)
                unusedLeft -= packs[i].unusedBytes
            }
            for i in candidates where !forcedRepack.contains(i) {
                if unusedLeft > allowed && packs[i].pack.size <= repackBudget {
                    repack.append(i)
                    repackBudget -= packs[i].pack.size
                    unusedLeft -= packs[i].unusedBytes
                } else {
                    keep.append(i)
                }
            }
            result.unusedBytesKept = unusedLeft

            // The whole data blobs the index will still name: every entry of a pack that
            // stays, and the used blobs copied out of repacked packs.
            var stayingWhole = Set<ChunkID>()
            for i in keep { for e in packs[i].pack.entries where e.type == .data && e.base == nil { stayingWhole.insert(e.id) } }
            for i in repack {
                for (j, e) in packs[i].pack.entries.enumerated() where e.type == .data && e.base == nil {
                    if isChosen(BlobKey(id: e.id, type: .data), Loc(slot: Int32(i), entry: Int32(j))) { stayingWhole.insert(e.id) }
                }
            }
            var changed = false
            undecodableKept = [:]
            for i in keep {
                let dangling = packs[i].pack.entries.compactMap { e in e.base.flatMap { stayingWhole.contains($0) ? nil : $0 } }
                guard !dangling.isEmpty else { continue }
                if packs[i].pack.size <= repackBudget {
                    forcedRepack.insert(i)
                    repackBudget -= packs[i].pack.size
                    changed = true
                    continue
                }
                var newlyUsed: [BlobKey] = []
                for b in dangling where wholeStored.contains(b) {
                    if wholeNeeded.insert(b).inserted { changed = true }
                    if used.insert(BlobKey(id: b, type: .data)).inserted { newlyUsed.append(BlobKey(id: b, type: .data)); changed = true }
                    basesKept.insert(b)
                }
                markBases(of: newlyUsed)
                let lost = dangling.filter { !wholeStored.contains($0) }.count
                if lost > 0 { undecodableKept[i] = lost }
            }
            if !changed { break }
        }
        if used.count > usedAtMark { log?("kept \(used.count - usedAtMark) unused blobs as delta bases (repack budget exhausted)") }
        result.replayedSnapshotsRemoved = replayed.count
        result.packsRepackedForDeltas = repack.filter { forcedRepack.contains($0) }.count
        result.deltaBasesKept = basesKept.count
        result.undecodableBlobsKept = undecodableKept.values.reduce(0, +)
        if !undecodableKept.isEmpty {
            log?("\(result.undecodableBlobsKept) delta blobs whose base is stored nowhere stay in \(undecodableKept.count) packs (no repack budget left)")
        }
        result.packsDeleted = delete.count + unindexed.count
        result.unindexedPacksDeleted = unindexed.count
        result.bytesDeleted = delete.reduce(0) { $0 + packs[$1].pack.size } + unindexedSizes.values.reduce(0, +)
        result.missingPacksDropped = dropMissing.count
        result.packsRepacked = repack.count
        result.bytesRepacked = repack.reduce(0) { $0 + packs[$1].pack.size }
        result.blobsRepacked = repack.reduce(0) { $0 + packs[$1].usedCount }
        let changes = !delete.isEmpty || !unindexed.isEmpty || !repack.isEmpty || !dropMissing.isEmpty
        result.indexRewritten = changes || indexKeys.count > 1
        log?("plan: delete \(result.packsDeleted) packs, repack \(repack.count), keep \(keep.count); \(result.unusedBytesKept) unused bytes stay")

        if options.dryRun || !result.indexRewritten {
            result.bytesFreed = result.bytesDeleted + result.bytesRepacked - (result.bytesRepacked > 0 ? result.usedBytesIn(repack, packs) : 0)
            result.storedBytesAfter = result.packBytes - result.bytesFreed
            result.seconds = Clock.monotonic() - started
            return result
        }

        // 4. Repack: copy each used blob, verified, into new packs.
        let writers: [PackType: PackWriter] = [.data: PackWriter(repo: repo, type: .data), .metadata: PackWriter(repo: repo, type: .metadata)]
        var chosenHere = Set<BlobKey>()
        for i in repack {
            let p = packs[i].pack
            // As large as the index says, however large the object in the store has become.
            let bytes = try await repo.store.get(ObjectKey(.data, p.id.hex), offset: 0, length: Int(p.size))
            var bases: [ChunkID: [UInt8]] = [:]   // verified base plaintexts of this pack's deltas
            for (j, e) in p.entries.enumerated() {
                let k = BlobKey(id: e.id, type: e.type)
                guard isChosen(k, Loc(slot: Int32(i), entry: Int32(j))), !chosenHere.contains(k) else { continue }
                guard Int(e.offset) + Int(e.length) <= bytes.count else {
                    throw CairnError.damagedBlob(blob: e.id.hex, pack: p.id.hex, reason: "pack is truncated (prune stopped before deleting anything)")
                }
                let sealed = bytes[Int(e.offset)..<Int(e.offset) + Int(e.length)]
                var base: (id: ChunkID, plaintext: [UInt8])? = nil
                if let b = e.base {
                    if bases[b] == nil { bases[b] = try await readVerified(BlobKey(id: b, type: .data)) }
                    base = (b, bases[b]!)
                }
                do { _ = try repo.codec.open(Array(sealed), type: e.type, id: e.id, rawLength: e.rawLength, base: base) } catch let d as BlobDamage {
                    throw CairnError.damagedBlob(blob: e.id.hex, pack: p.id.hex, reason: "\(d.reason) (prune stopped before deleting anything; run 'cairn scrub' and 'cairn repair')")
                }
                try await writers[e.type.packType]!.add(sealed: sealed, type: e.type, id: e.id, rawLength: e.rawLength, base: e.base)
                chosenHere.insert(k)
            }
            progress.update { $0.bytesDone += p.size }
        }
        for w in writers.values { try await w.flush() }
        let written = writers[.data]!.written + writers[.metadata]!.written
        result.packsWritten = written.count
        result.bytesWritten = written.reduce(0) { $0 + $1.size }
        log?("wrote \(written.count) new packs")

        // 5. One index delta naming every pack that stays, superseding every old index object.
        try await commitCheck?()
        let staying = keep.sorted().map { packs[$0].pack } + written
        // Several deltas when the index is large (IndexDelta.parts), the superseding one last.
        var newIndex = Set<String>()
        for part in IndexDelta.parts(packs: staying, supersedes: indexKeys.compactMap { ChunkID(hex: $0.name) }) {
            let sealed = try repo.keys.sealObject(.index, part.encoded())
            let name = Hex.encode(SHA256.hash(sealed))
            try await repo.store.put(ObjectKey(.index, name), sealed)
            newIndex.insert(name)
        }
        log?("wrote \(newIndex.count) index object(s) naming \(staying.count) packs")

        // 6. Delete the old index objects, then 7. the packs no index names any more.
        try await commitCheck?()
        for key in indexKeys where !newIndex.contains(key.name) { try await repo.store.delete(key) }
        try await commitCheck?()
        for i in delete + repack { try await repo.store.delete(ObjectKey(.data, packs[i].pack.id.hex)) }
        for id in unindexed { try await repo.store.delete(ObjectKey(.data, id.hex)) }
        log?("deleted \(indexKeys.count) index objects and \(delete.count + repack.count + unindexed.count) packs")

        result.bytesFreed = result.bytesDeleted + result.bytesRepacked - result.bytesWritten
        result.storedBytesAfter = result.packBytes - result.bytesFreed
        result.seconds = Clock.monotonic() - started
        try await repo.sync()
        return result
    }
}

extension PruneResult {
    /// Estimated bytes the repacked blobs take again in new packs (dry run).
    func usedBytesIn(_ slots: [Int], _ packs: [Pruner.PackState]) -> UInt64 {
        slots.reduce(0) { $0 + packs[$1].usedBytes }
    }
}

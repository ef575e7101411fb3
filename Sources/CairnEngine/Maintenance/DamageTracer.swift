#if canImport(Glibc)
import Glibc
#endif
import CairnFormat
import CairnIndex
import CairnRepository

/// Walks snapshots with the store's index and reports which paths and byte
/// ranges the damaged or missing blobs break. Trees and chunk lists are read
/// from the store and verified; a tree that cannot be read breaks every path
/// below it. A blob no readable index object names but a pack holds is read
/// from that pack and verified: index damage, not lost data.
///
/// One tracer serves a whole scrub, and reads and checks each tree and list
/// blob once: snapshots share nearly all their trees, and a forged one can
/// share a subtree or list under millions of paths (a DAG of 2 × 40 levels, a
/// file of 4096³ references to one list). What a subtree or list breaks is
/// remembered (a clean one as nothing at all) and replayed under each further
/// path that leads to it. The walk is `TreeWalker`'s (iterative: memory grows
/// with depth, never with its square).
struct DamageTracer {
    let repo: Repository
    let view: StoreIndexView
    /// Blobs in packs no readable index object names (from those packs' headers).
    let unindexed: [StoreIndexView.BlobKey: BlobLocation]
    let badBlobs: [StoreIndexView.BlobKey: String]

    /// Damaged paths listed per snapshot; more are counted (`omitted`).
    static let listedPathsPerSnapshot = 100_000
    /// Byte ranges and blob ids listed per file; further ranges widen the last one.
    static let listedRangesPerFile = 1_000

    /// Blobs referenced by a snapshot but absent from every index object and every pack.
    var missing: [StoreIndexView.BlobKey: String] = [:]
    /// Trees and lists the index names but that cannot be read or decoded, with why.
    var unreadable: [StoreIndexView.BlobKey: String] = [:]
    /// Blobs referenced by a snapshot that only a pack no readable index object names
    /// holds, read from there and verified: index damage, not lost data.
    var unindexedUsed: [StoreIndexView.BlobKey: PackID] = [:]
    /// Blobs referenced by a snapshot that only such a pack holds, damaged there.
    var unindexedDamaged: [StoreIndexView.BlobKey: (pack: PackID, why: String)] = [:]

    init(repo: Repository, view: StoreIndexView, unindexed: [StoreIndexView.BlobKey: BlobLocation] = [:],
         badBlobs: [StoreIndexView.BlobKey: String]) {
        self.repo = repo; self.view = view; self.unindexed = unindexed; self.badBlobs = badBlobs
        cleanTrees = BitSet(count: view.table.recordCount)
    }

    /// What one snapshot's walk found.
    struct SnapshotDamage {
        var affected: [ScrubReport.Affected] = []
        /// Damaged paths beyond `listedPathsPerSnapshot`.
        var omitted: UInt64 = 0
        /// The snapshot uses a blob only a pack no readable index object names holds.
        var usesUnindexed = false
    }

    // MARK: memo

    /// A damaged path as first found; `path` is absolute in the snapshot where it was found.
    private struct Entry {
        let path: [UInt8]
        let ranges: [ClosedRange<UInt64>]
        let blobs: [String]
    }
    private var entries: [Entry] = []
    /// Damaged paths found so far (listed or not), across the scrub.
    private var found: UInt64 = 0
    /// Uses of unindexed blobs so far: a subtree used some when this grew during its walk.
    private var unindexedUses = 0

    private enum TreeResult {
        case clean(usesUnindexed: Bool)
        /// The entries its first walk listed (contiguous), the length of its path then, and how many it found.
        case damaged(entries: Range<Int>, pathLength: Int, found: UInt64, usesUnindexed: Bool)
    }
    /// Trees walked: damaged ones, and clean ones the index does not name or that use unindexed blobs.
    private var trees: [ChunkID: TreeResult] = [:]
    /// Clean trees, by the record of their index entry: a bit each, however many directories a repository has.
    private var cleanTrees: BitSet

    /// What a list blob's content is and breaks, relative to its start.
    private struct ContentResult {
        var length: UInt64 = 0
        var ranges: [ClosedRange<UInt64>] = []
        var blobs: [String] = []
        /// A list below could not be read: everything from its start on is unknown (and `length` with it).
        var unknownTail = false
        var usesUnindexed = false
    }
    private var lists: [ChunkID: ContentResult] = [:]

    /// Bytes of the clean-tree bits (one a record of the index).
    var bitBytes: Int { cleanTrees.bytes }
    /// Entries of the maps keyed by blob: what a scrub holds beyond the index's table and bits.
    var entriesHeld: Int {
        trees.count + lists.count + missing.count + unreadable.count + unindexedUsed.count + unindexedDamaged.count
    }

    // MARK: walking

    private var current = SnapshotDamage()
    private var snapshotID = ""
    private var name = ""

    /// Walks one snapshot's tree from `root`.
    mutating func walk(snapshotID: String, name: String, root: ChunkID) async throws -> SnapshotDamage {
        self.snapshotID = snapshotID; self.name = name
        current = SnapshotDamage()
        try await walkTree(root)
        return current
    }

    /// One directory level being walked: what `TreeWalker` does not keep.
    private struct Frame {
        let id: ChunkID
        /// The record of its index entry (nil when only an unindexed pack holds it).
        let record: Int?
        /// Length of the path of this directory.
        let pathLength: Int
        /// `entries.count`, `found` and `unindexedUses` when the frame was pushed.
        let firstEntry: Int
        let foundBefore: UInt64
        let usesBefore: Int
    }

    /// The walk is `TreeWalker`'s: `enter` decides (a tree known already is
    /// replayed under its new path and not walked again; an unreadable one is
    /// damage) and reads the tree `load` then hands over; `leave` remembers
    /// what the finished subtree broke.
    private mutating func walkTree(_ root: ChunkID) async throws {
        // TreeWalker hands a directory's node over just before entering it: its path is the last one visited.
        var lastPath: [UInt8] = []
        var entered: Tree?
        var frames: [Frame] = []
        try await TreeWalker.walk(root, enter: { id in
            guard let (frame, tree) = try await self.enter(id, path: lastPath) else { return false }
            frames.append(frame); entered = tree
            return true
        }, load: { _ in
            guard let tree = entered else { throw CairnError.other("internal: a tree was loaded without being entered") }
            entered = nil
            return tree
        }, visit: { path, node in
            lastPath = path
            guard node.kind == .file else { return }   // directories are entered; symlinks, FIFOs, devices, sockets hold no blobs
            let c = try await self.content(node.content)
            if !c.blobs.isEmpty { self.emit(path, ranges: Self.merge(c.ranges), blobs: c.blobs) }
        }, leave: { _ in
            self.finish(frames.removeLast())
        })
    }

    /// Remembers what the subtree of a finished frame broke (clean ones as one bit).
    private mutating func finish(_ done: Frame) {
        let uses = unindexedUses > done.usesBefore
        if entries.count == done.firstEntry && found == done.foundBefore {
            if !uses, let r = done.record { cleanTrees.insert(r) } else { trees[done.id] = .clean(usesUnindexed: uses) }
        } else {
            trees[done.id] = .damaged(entries: done.firstEntry..<entries.count, pathLength: done.pathLength, found: found - done.foundBefore, usesUnindexed: uses)
        }
    }

    /// Starts walking the directory `id` at `path`: a frame to push and the tree
    /// read and verified, or nil when it is known already (its damage replayed
    /// under `path`) or unreadable.
    private mutating func enter(_ id: ChunkID, path: [UInt8]) async throws -> (Frame, Tree)? {
        let record = try view.table.records(id, .tree).first
        if let record, cleanTrees[record] { return nil }
        switch trees[id] {
        case .clean(let uses)?:
            if uses { useUnindexed() }
            return nil
        case .damaged(let range, let length, let count, let uses)?:
            if uses { useUnindexed() }
            for i in range {
                let e = entries[i]
                emit(path + e.path[length...], ranges: e.ranges, blobs: e.blobs)
            }
            // Found beyond the listing limit of the first walk: counted, not listed.
            let unlisted = count - UInt64(range.count)
            found += unlisted; current.omitted += unlisted
            return nil
        case nil: break
        }
        let k = StoreIndexView.BlobKey(id: id, type: .tree)
        do {
            if let p = try problem(id, .tree) { throw CairnError.other(p) }
            let tree = try Tree.decode(try await read(.tree, id))
            let usesBefore = unindexedUses
            try readVerified(k)
            return (Frame(id: id, record: record, pathLength: path.count, firstEntry: entries.count, foundBefore: found, usesBefore: usesBefore), tree)
        } catch let e as ScratchFileError {
            throw e
        } catch {
            try note(k, error)
            let first = entries.count, before = found
            emit(path, ranges: [], blobs: [id.hex])
            trees[id] = .damaged(entries: first..<entries.count, pathLength: path.count, found: found - before, usesUnindexed: false)
            return nil
        }
    }

    private mutating func emit(_ path: [UInt8], ranges: [ClosedRange<UInt64>], blobs: [String]) {
        found += 1
        guard current.affected.count < Self.listedPathsPerSnapshot else { current.omitted += 1; return }
        entries.append(Entry(path: path, ranges: ranges, blobs: blobs))
        current.affected.append(.init(snapshot: snapshotID, name: name, path: path.isEmpty ? "/" : String(decoding: path, as: UTF8.self),
                                      ranges: ranges, blobs: blobs))
    }

    private mutating func useUnindexed() {
        unindexedUses += 1
        current.usesUnindexed = true
    }

    // MARK: content

    /// A list blob being expanded: what its content breaks so far, relative to its start.
    private struct OpenList {
        let id: ChunkID?
        var result = ContentResult()
        /// `unindexedUses` when it was entered.
        let usesBefore: Int
    }

    /// What `ref` breaks: ranges are inclusive byte ranges of the content; a
    /// lost list blob makes the rest of the content unknown. Expanded by
    /// `ListExpander` (the one list-blob walk); each list blob is read, checked
    /// and traced once, its result remembered and replayed wherever it recurs.
    private mutating func content(_ ref: ContentRef) async throws -> ContentResult {
        var open = [OpenList(id: nil, usesBefore: unindexedUses)]
        try await ListExpander.expand(ref, enter: { id in
            // Past a lost list the rest of the content is unknown: nothing more is read.
            guard let top = open.last, !top.result.unknownTail else { return false }
            if let known = self.lists[id] {
                if known.usesUnindexed { self.useUnindexed() }
                Self.append(known, to: &open[open.count - 1].result)
                return false
            }
            open.append(OpenList(id: id, usesBefore: self.unindexedUses))
            return true
        }, readList: { id in
            if let p = try self.problem(id, .list) { throw CairnError.other(p) }
            return try await self.read(.list, id)
        }, opened: { id in
            try self.readVerified(StoreIndexView.BlobKey(id: id, type: .list))
        }, lost: { id, error in
            if error is ScratchFileError { throw error }
            try self.note(StoreIndexView.BlobKey(id: id, type: .list), error)
            open.removeLast()
            let child = ContentResult(length: 0, ranges: [0...UInt64.max], blobs: [id.hex], unknownTail: true)
            self.lists[id] = child
            Self.append(child, to: &open[open.count - 1].result)
        }, leave: { id in
            let done = open.removeLast()
            var child = done.result
            if self.unindexedUses > done.usesBefore { child.usesUnindexed = true }
            self.lists[id] = child
            Self.append(child, to: &open[open.count - 1].result)
        }, data: { ids in
            try await self.addData(ids, to: &open[open.count - 1].result)
        })
        return open[0].result
    }

    /// Level-0 content: each data chunk's damage (missing, damaged, or only in an unindexed pack and bad there).
    private mutating func addData(_ ids: [ChunkID], to out: inout ContentResult) async throws {
        for id in ids {
            let k = StoreIndexView.BlobKey(id: id, type: .data)
            let loc = try location(k)
            let len = UInt64(loc?.rawLength ?? 0)
            var bad = try problem(id, .data, at: loc) != nil
            if !bad, try await verifyUnindexedData(id, at: loc) != nil { bad = true }
            if bad {
                if loc == nil {
                    missing[k] = "referenced by snapshot \(snapshotID.prefix(8)) but not in any index object or pack"
                }
                Self.add(out.length...(out.length &+ max(len, 1) &- 1), to: &out)
                Self.note(blob: id.hex, in: &out)
            }
            out.length &+= len
        }
    }

    /// `child`, the result of a list blob, appended to `out` at its end.
    private static func append(_ child: ContentResult, to out: inout ContentResult) {
        let base = out.length
        for r in child.ranges {
            add((base &+ r.lowerBound)...(r.upperBound == UInt64.max ? UInt64.max : base &+ r.upperBound), to: &out)
        }
        for b in child.blobs { note(blob: b, in: &out) }
        out.length &+= child.length
        if child.unknownTail { out.unknownTail = true }
    }

    /// Adds a lost range: merged with the last one when they touch; past the
    /// listing limit the last range widens to cover it.
    private static func add(_ r: ClosedRange<UInt64>, to out: inout ContentResult) {
        if let last = out.ranges.last, r.lowerBound <= last.upperBound &+ 1 || last.upperBound == UInt64.max || out.ranges.count >= listedRangesPerFile {
            out.ranges[out.ranges.count - 1] = last.lowerBound...max(last.upperBound, r.upperBound)
        } else {
            out.ranges.append(r)
        }
    }

    /// Names a blob that breaks the content (up to the listing limit; a repeat of the last one once).
    private static func note(blob: String, in out: inout ContentResult) {
        if out.blobs.count < listedRangesPerFile, out.blobs.last != blob { out.blobs.append(blob) }
    }

    // MARK: blobs

    /// Where a blob is: by the index, else by the header of a pack no index object names.
    private func location(_ k: StoreIndexView.BlobKey) throws -> BlobLocation? { try view.location(k) ?? unindexed[k] }

    private func problem(_ id: ChunkID, _ type: BlobType) throws -> String? {
        try problem(id, type, at: try location(.init(id: id, type: type)))
    }

    /// What is wrong with blob (`id`, `type`) found at `loc` (its `location`), if anything.
    private func problem(_ id: ChunkID, _ type: BlobType, at loc: BlobLocation?) throws -> String? {
        let k = StoreIndexView.BlobKey(id: id, type: type)
        if let why = badBlobs[k] { return why }
        if let d = unindexedDamaged[k] { return d.why }
        guard let loc else { return "not in any index object" }
        if let base = loc.base {
            let bk = StoreIndexView.BlobKey(id: base, type: .data)
            if let why = badBlobs[bk] { return "its delta base \(base.short) is damaged: \(why)" }
            guard let baseLoc = try location(bk) else { return "its delta base \(base.short) is not in any index object" }
            if baseLoc.base != nil { return "its delta base \(base.short) is itself stored as a delta" }
        }
        return nil
    }

    private func read(_ type: BlobType, _ id: ChunkID) async throws -> [UInt8] {
        guard let loc = try location(.init(id: id, type: type)) else { throw CairnError.missingBlob(id.hex) }
        return try await repo.readBlob(type, id, at: loc, baseLocation: { [view, unindexed] in try view.dataLocation($0) ?? unindexed[.init(id: $0, type: .data)] })
    }

    /// A blob read (and so verified) through `location`: when it, or its delta base, came
    /// from a pack no readable index object names, that is index damage to report.
    private mutating func readVerified(_ k: StoreIndexView.BlobKey) throws {
        let indexed = try view.location(k)
        guard let loc = indexed ?? unindexed[k] else { return }
        if indexed == nil { unindexedUsed[k] = loc.pack; useUnindexed() }
        if let base = loc.base, unindexed[.init(id: base, type: .data)] != nil, try view.location(.init(id: base, type: .data)) == nil,
           let b = unindexed[.init(id: base, type: .data)] {
            unindexedUsed[.init(id: base, type: .data)] = b.pack
            useUnindexed()
        }
    }

    /// A data chunk the index does not name (or whose base it does not name) is read from
    /// the pack that holds it and verified: only a good copy makes it index damage.
    private mutating func verifyUnindexedData(_ id: ChunkID, at loc: BlobLocation?) async throws -> String? {
        let k = StoreIndexView.BlobKey(id: id, type: .data)
        guard let loc else { return nil }
        // Without index damage (nothing unindexed) every location is the index's own: the common case costs nothing more.
        guard !unindexed.isEmpty else { return nil }
        let baseUnindexed = try loc.base.map { try view.location(.init(id: $0, type: .data)) == nil } ?? false
        guard try baseUnindexed || view.location(k) == nil else { return nil }
        if unindexedUsed[k] != nil { try readVerified(k); return nil }   // verified before
        do {
            _ = try await read(.data, id)
            try readVerified(k)
            return nil
        } catch let e as ScratchFileError {
            throw e
        } catch {
            let why = "stored in pack \(loc.pack.short), which no readable index object names, and damaged there: \(describe(error))"
            unindexedDamaged[k] = (loc.pack, why)
            return why
        }
    }

    private mutating func note(_ k: StoreIndexView.BlobKey, _ error: any Error) throws {
        let indexed = try view.location(k)
        if let loc = indexed ?? unindexed[k] {
            if indexed == nil {
                unindexedDamaged[k] = (loc.pack, "stored in pack \(loc.pack.short), which no readable index object names, and damaged there: \(describe(error))")
            } else if badBlobs[k] == nil {
                unreadable[k] = describe(error)
            }
        } else {
            missing[k] = "referenced by snapshot \(snapshotID.prefix(8)) but not in any index object or pack"
        }
    }

    static func merge(_ ranges: [ClosedRange<UInt64>]) -> [ClosedRange<UInt64>] {
        var out: [ClosedRange<UInt64>] = []
        for r in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = out.last, r.lowerBound <= last.upperBound &+ 1 && last.upperBound != UInt64.max {
                out[out.count - 1] = last.lowerBound...max(last.upperBound, r.upperBound)
            } else if let last = out.last, last.upperBound == UInt64.max {
                continue
            } else {
                out.append(r)
            }
        }
        return out
    }
}

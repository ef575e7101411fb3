import CairnFormat
import CairnIndex

/// Walks one snapshot with the store's index and reports which paths and
/// byte ranges the damaged or missing blobs break. Trees and chunk lists are
/// read from the store and verified; a tree that cannot be read breaks every
/// path below it.
struct DamageTracer {
    let repo: Repository
    let view: StoreIndexView
    /// Blobs in packs no readable index object names (from those packs' headers).
    let unindexed: [StoreIndexView.BlobKey: BlobLocation]
    let badBlobs: [StoreIndexView.BlobKey: String]
    let snapshotID: String
    let name: String
    var affected: [ScrubReport.Affected] = []
    /// Blobs referenced by the snapshot but absent from every index object and every pack.
    var missing: [StoreIndexView.BlobKey: String] = [:]
    /// Blobs referenced by the snapshot that only a pack no readable index object names
    /// holds, read from there and verified: index damage, not lost data.
    var unindexedUsed: [StoreIndexView.BlobKey: ChunkID] = [:]
    /// Blobs referenced by the snapshot that only such a pack holds, damaged there.
    var unindexedDamaged: [StoreIndexView.BlobKey: (pack: ChunkID, why: String)] = [:]
    /// This snapshot uses a blob that only such a pack holds (the two maps above carry
    /// over from snapshot to snapshot, so each such blob is read once per scrub).
    var usesUnindexed = false

    /// Where a blob is: by the index, else by the header of a pack no index object names.
    private func location(_ k: StoreIndexView.BlobKey) -> BlobLocation? { view.blobs[k] ?? unindexed[k] }

    private func problem(_ id: ChunkID, _ type: BlobType) -> String? {
        let k = StoreIndexView.BlobKey(id: id, type: type)
        if let why = badBlobs[k] { return why }
        if let d = unindexedDamaged[k] { return d.why }
        guard let loc = location(k) else { return "not in any index object" }
        if let base = loc.base {
            let bk = StoreIndexView.BlobKey(id: base, type: .data)
            if let why = badBlobs[bk] { return "its delta base \(base.short) is damaged: \(why)" }
            guard let baseLoc = location(bk) else { return "its delta base \(base.short) is not in any index object" }
            if baseLoc.base != nil { return "its delta base \(base.short) is itself stored as a delta" }
        }
        return nil
    }

    private func read(_ type: BlobType, _ id: ChunkID) async throws -> [UInt8] {
        guard let loc = location(.init(id: id, type: type)) else { throw CairnError.missingBlob(id.hex) }
        return try await repo.readBlob(type, id, at: loc, baseLocation: { [view, unindexed] in view.dataLocation($0) ?? unindexed[.init(id: $0, type: .data)] })
    }

    /// A blob read (and so verified) through `location`: when it, or its delta base, came
    /// from a pack no readable index object names, that is index damage to report.
    private mutating func readVerified(_ k: StoreIndexView.BlobKey) {
        guard let loc = location(k) else { return }
        if view.blobs[k] == nil { unindexedUsed[k] = loc.pack; usesUnindexed = true }
        if let base = loc.base, view.blobs[.init(id: base, type: .data)] == nil, let b = unindexed[.init(id: base, type: .data)] {
            unindexedUsed[.init(id: base, type: .data)] = b.pack
            usesUnindexed = true
        }
    }

    /// A data chunk the index does not name (or whose base it does not name) is read from
    /// the pack that holds it and verified: only a good copy makes it index damage.
    private mutating func verifyUnindexedData(_ id: ChunkID) async -> String? {
        let k = StoreIndexView.BlobKey(id: id, type: .data)
        guard let loc = location(k) else { return nil }
        let baseUnindexed = loc.base.map { view.blobs[.init(id: $0, type: .data)] == nil } ?? false
        guard view.blobs[k] == nil || baseUnindexed else { return nil }
        if unindexedUsed[k] != nil { readVerified(k); return nil }   // verified for an earlier snapshot
        do {
            _ = try await read(.data, id)
            readVerified(k)
            return nil
        } catch {
            let why = "stored in pack \(loc.pack.short), which no readable index object names, and damaged there: \(describe(error))"
            unindexedDamaged[k] = (loc.pack, why)
            return why
        }
    }

    mutating func walkTree(_ id: ChunkID, path: String) async {
        let tree: Tree
        let k = StoreIndexView.BlobKey(id: id, type: .tree)
        do {
            if let p = problem(id, .tree) { throw CairnError.other(p) }
            tree = try Tree.decode(try await read(.tree, id))
            readVerified(k)
        } catch {
            note(k, error)
            affected.append(.init(snapshot: snapshotID, name: name, path: path.isEmpty ? "/" : path, ranges: [], blobs: [id.hex]))
            return
        }
        for node in tree.nodes {
            let p = path + "/" + node.displayName
            switch node.kind {
            case .directory: if let sub = node.subtree { await walkTree(sub, path: p) }
            case .symlink, .fifo, .characterDevice, .blockDevice, .socket: break
            case .file:
                var offset: UInt64 = 0
                var ranges: [ClosedRange<UInt64>] = [], blobs: [String] = []
                await walkContent(node.content, offset: &offset, ranges: &ranges, blobs: &blobs)
                if !blobs.isEmpty {
                    affected.append(.init(snapshot: snapshotID, name: name, path: p, ranges: Self.merge(ranges), blobs: blobs))
                }
            }
        }
    }

    private mutating func note(_ k: StoreIndexView.BlobKey, _ error: any Error) {
        if let loc = location(k) {
            if view.blobs[k] == nil { unindexedDamaged[k] = (loc.pack, "stored in pack \(loc.pack.short), which no readable index object names, and damaged there: \(describe(error))") }
        } else {
            missing[k] = "referenced by snapshot \(snapshotID.prefix(8)) but not in any index object or pack"
        }
    }

    /// Ranges are inclusive byte ranges of the file; a lost list blob makes the rest of the file unknown.
    private mutating func walkContent(_ ref: ContentRef, offset: inout UInt64, ranges: inout [ClosedRange<UInt64>], blobs: inout [String]) async {
        if ref.level == 0 {
            for id in ref.ids {
                let len = UInt64(location(.init(id: id, type: .data))?.rawLength ?? 0)
                var bad = problem(id, .data) != nil
                if !bad, await verifyUnindexedData(id) != nil { bad = true }
                if bad {
                    if location(.init(id: id, type: .data)) == nil {
                        missing[.init(id: id, type: .data)] = "referenced by snapshot \(snapshotID.prefix(8)) but not in any index object or pack"
                    }
                    blobs.append(id.hex)
                    ranges.append(offset...(offset + max(len, 1) - 1))
                }
                offset += len
            }
            return
        }
        for id in ref.ids {
            let k = StoreIndexView.BlobKey(id: id, type: .list)
            do {
                if let p = problem(id, .list) { throw CairnError.other(p) }
                let child = try ref.child(id, plaintext: try await read(.list, id))
                readVerified(k)
                await walkContent(child, offset: &offset, ranges: &ranges, blobs: &blobs)
            } catch {
                note(k, error)
                blobs.append(id.hex)
                ranges.append(offset...UInt64.max)
                return
            }
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

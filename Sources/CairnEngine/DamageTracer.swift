import CairnFormat
import CairnIndex

/// Walks one snapshot with the store's index and reports which paths and
/// byte ranges the damaged or missing blobs break. Trees and chunk lists are
/// read from the store and verified; a tree that cannot be read breaks every
/// path below it.
struct DamageTracer {
    let repo: Repository
    let view: StoreIndexView
    let badBlobs: [StoreIndexView.BlobKey: String]
    let snapshotID: String
    let name: String
    var affected: [ScrubReport.Affected] = []
    /// Blobs referenced by the snapshot but absent from every index object.
    var missing: [StoreIndexView.BlobKey: String] = [:]

    private func problem(_ id: ChunkID, _ type: BlobType) -> String? {
        let k = StoreIndexView.BlobKey(id: id, type: type)
        if let why = badBlobs[k] { return why }
        guard let loc = view.blobs[k] else { return "not in any index object" }
        if let base = loc.base {
            let bk = StoreIndexView.BlobKey(id: base, type: .data)
            if let why = badBlobs[bk] { return "its delta base \(base.short) is damaged: \(why)" }
            if view.blobs[bk] == nil { return "its delta base \(base.short) is not in any index object" }
            if !view.storesWhole(base) { return "its delta base \(base.short) is itself stored as a delta" }
        }
        return nil
    }

    private func read(_ type: BlobType, _ id: ChunkID) async throws -> [UInt8] {
        guard let loc = view.blobs[.init(id: id, type: type)] else { throw CairnError.missingBlob(id.hex) }
        return try await repo.readBlob(type, id, at: loc, baseLocation: { [view] in view.dataLocation($0) })
    }

    mutating func walkTree(_ id: ChunkID, path: String) async {
        let tree: Tree
        do {
            if let p = problem(id, .tree) { throw CairnError.other(p) }
            tree = try Tree.decode(try await read(.tree, id))
        } catch {
            note(.init(id: id, type: .tree), error)
            affected.append(.init(snapshot: snapshotID, name: name, path: path.isEmpty ? "/" : path, ranges: [], blobs: [id.hex]))
            return
        }
        for node in tree.nodes {
            let p = path + "/" + node.displayName
            switch node.kind {
            case .directory: if let sub = node.subtree { await walkTree(sub, path: p) }
            case .symlink: break
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
        if view.blobs[k] == nil { missing[k] = "referenced by snapshot \(snapshotID.prefix(8)) but not in any index object" }
    }

    /// Ranges are inclusive byte ranges of the file; a lost list blob makes the rest of the file unknown.
    private mutating func walkContent(_ ref: ContentRef, offset: inout UInt64, ranges: inout [ClosedRange<UInt64>], blobs: inout [String]) async {
        if ref.level == 0 {
            for id in ref.ids {
                let len = UInt64(view.blobs[.init(id: id, type: .data)]?.rawLength ?? 0)
                if problem(id, .data) != nil {
                    if view.blobs[.init(id: id, type: .data)] == nil {
                        missing[.init(id: id, type: .data)] = "referenced by snapshot \(snapshotID.prefix(8)) but not in any index object"
                    }
                    blobs.append(id.hex)
                    ranges.append(offset...(offset + max(len, 1) - 1))
                }
                offset += len
            }
            return
        }
        for id in ref.ids {
            do {
                if let p = problem(id, .list) { throw CairnError.other(p) }
                let child = try ref.child(id, plaintext: try await read(.list, id))
                await walkContent(child, offset: &offset, ranges: &ranges, blobs: &blobs)
            } catch {
                note(.init(id: id, type: .list), error)
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

import CairnCrypto
import CairnFormat
import CairnIndex
import CairnStorage

/// The index as the store states it (its index objects), independent of the
/// local cache: what a scrub or repair must trust.
struct StoreIndexView: Sendable {
    struct BlobKey: Hashable { let id: ChunkID; let type: BlobType }

    var packs: [ChunkID: IndexedPack] = [:]
    var blobs: [BlobKey: BlobLocation] = [:]
    /// Index objects that could not be read, with why.
    var unreadable: [(name: String, problem: String)] = []
    var objectNames: [String] = []

    /// The location of a data chunk by this view (for delta bases).
    func dataLocation(_ id: ChunkID) -> BlobLocation? { blobs[BlobKey(id: id, type: .data)] }

    static func load(_ repo: Repository) async throws -> StoreIndexView {
        var view = StoreIndexView()
        var copies: [BlobKey: [BlobLocation]] = [:]   // blobs stored in more than one pack
        for key in try await repo.store.list(.index).sorted(by: { $0.name < $1.name }) {
            view.objectNames.append(key.name)
            do {
                let bytes = try await MetadataObjects.read(repo.store, key)
                guard MetadataObjects.matchesName(key, bytes) else {
                    view.unreadable.append((key.name, MetadataObjects.nameMismatch)); continue
                }
                let delta = try IndexDelta.decode(try repo.keys.openObject(.index, bytes))
                for p in delta.packs {
                    view.packs[p.id] = p
                    for e in p.entries {
                        let k = BlobKey(id: e.id, type: e.type)
                        let loc = BlobLocation(pack: p.id, offset: e.offset, length: e.length, rawLength: e.rawLength, base: e.base)
                        if let had = view.blobs[k] {
                            if had.pack != p.id { copies[k, default: [had]].append(loc) }
                        } else {
                            view.blobs[k] = loc
                        }
                    }
                }
            } catch {
                view.unreadable.append((key.name, describe(error)))
            }
        }
        view.preferDecodableCopies(copies)
        return view
    }

    /// Where a blob is stored more than once, the location to use is one that
    /// can be decoded: a whole copy, else a delta whose base is stored whole
    /// (format-spec §8). A delta whose base is gone must not hide a good copy.
    private mutating func preferDecodableCopies(_ copies: [BlobKey: [BlobLocation]]) {
        guard !copies.isEmpty else { return }
        func whole(_ id: ChunkID) -> Bool {
            let k = BlobKey(id: id, type: .data)
            return blobs[k]?.base == nil && blobs[k] != nil || copies[k]?.contains { $0.base == nil } == true
        }
        for (k, locs) in copies {
            if let w = locs.first(where: { $0.base == nil }) { blobs[k] = w; continue }
            if let d = locs.first(where: { whole($0.base!) }) { blobs[k] = d }
        }
    }

    /// Whether the index names a whole copy of data chunk `id` (one a delta can be decoded against).
    func storesWhole(_ id: ChunkID) -> Bool {
        guard let loc = blobs[BlobKey(id: id, type: .data)] else { return false }
        return loc.base == nil
    }

    /// Per pack, the delta entries whose base no index object names as a
    /// whole data blob: they cannot be decoded (format-spec §8).
    func undecodableDeltas() -> [ChunkID: [BlobEntry]] {
        var out: [ChunkID: [BlobEntry]] = [:]
        for (id, pack) in packs {
            let bad = pack.entries.filter { e in e.base.map { !storesWhole($0) } ?? false }
            if !bad.isEmpty { out[id] = bad }
        }
        return out
    }
}


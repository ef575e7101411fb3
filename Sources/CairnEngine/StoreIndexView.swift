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
        for key in try await repo.store.list(.index).sorted(by: { $0.name < $1.name }) {
            view.objectNames.append(key.name)
            do {
                let bytes = try await repo.store.get(key)
                guard Hex.encode(SHA256.hash(bytes)) == key.name else {
                    view.unreadable.append((key.name, "content does not match its name (SHA-256)")); continue
                }
                let delta = try IndexDelta.decode(try repo.keys.openObject(.index, bytes))
                for p in delta.packs {
                    view.packs[p.id] = p
                    for e in p.entries {
                        view.blobs[BlobKey(id: e.id, type: e.type)] = BlobLocation(pack: p.id, offset: e.offset, length: e.length, rawLength: e.rawLength, base: e.base)
                    }
                }
            } catch {
                view.unreadable.append((key.name, describe(error)))
            }
        }
        return view
    }
}


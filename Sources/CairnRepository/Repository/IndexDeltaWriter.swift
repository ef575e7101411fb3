import CairnCrypto
import CairnFormat
import CairnStorage

/// Writes index deltas as packs are handed to it, each at most about
/// `IndexDelta.writerTargetBytes` (as `IndexDelta.parts` cuts them), so a
/// rewrite of the whole index never holds more than one delta's packs;
/// `finish` writes the last one, which names what it supersedes: a reader
/// that sees it knows every other part is stored already.
package final class IndexDeltaWriter {
    private let repo: Repository
    private var current: [IndexedPack] = []
    private var bytes = 0
    /// Names of the deltas written, in order.
    package private(set) var written: [String] = []
    /// Runs before each delta is stored (a prune's lock check).
    package var beforeWrite: (() async throws -> Void)?
    /// Runs after each delta is stored, with its name, the packs it names and its stored size
    /// (a backup's checkpoint marks those packs indexed in the cache).
    package var afterWrite: ((_ name: String, _ packs: [IndexedPack], _ size: Int) throws -> Void)?

    package init(repo: Repository) { self.repo = repo }

    package func add(_ pack: IndexedPack) async throws {
        let size = IndexDelta.estimatedBytes(pack)
        if IndexDelta.startsNewPart(packs: current.count, bytes: bytes, adding: size) {
            try await write(IndexDelta(packs: current))
            current = []; bytes = 0
        }
        current.append(pack); bytes += size
    }

    /// Writes what is left, naming `supersedes`; returns every name written.
    @discardableResult
    package func finish(supersedes: [IndexObjectID]) async throws -> [String] {
        try await write(IndexDelta(packs: current, supersedes: supersedes))
        current = []; bytes = 0
        return written
    }

    private func write(_ delta: IndexDelta) async throws {
        try await beforeWrite?()
        let (name, sealed) = try await Self.store(delta, in: repo)
        try afterWrite?(name, delta.packs, sealed.count)
        written.append(name)
    }

    /// Seals `delta` and stores it under its name (the SHA-256 of the sealed bytes): the one
    /// write of an index object, for a writer's parts and for a metadata merge's object
    /// (`MetadataCompactor`, which keeps the sealed bytes to put them back if another writer's
    /// fold deletes them).
    package static func store(_ delta: IndexDelta, in repo: Repository) async throws -> (name: String, sealed: [UInt8]) {
        let sealed = try repo.keys.sealObject(.index, delta.encoded())
        let name = Hex.encode(SHA256.hash(sealed))
        try await repo.store.put(ObjectKey(.index, name), sealed)
        return (name, sealed)
    }
}

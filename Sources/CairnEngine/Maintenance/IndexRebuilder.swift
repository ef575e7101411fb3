import CairnFormat
import CairnIndex
import CairnRepository
import CairnStorage

/// Recreates the SQLite index from the store alone.
///
/// By default it loads the store's index objects and reads the headers of
/// only those packs no index object names (a killed backup's, or all of them
/// when the index objects are lost). With `readAllPacks` it ignores the index
/// objects and reads every pack header. Packs that no index object named are
/// written to a new index object, so other machines see them too.
public struct IndexRebuilder {
    let repo: Repository
    let readAllPacks: Bool
    public let progress: WorkProgress

    public init(repo: Repository, readAllPacks: Bool = false, progress: WorkProgress = WorkProgress()) {
        self.repo = repo; self.readAllPacks = readAllPacks; self.progress = progress
    }

    public struct Result: Sendable {
        public var packs = 0
        public var blobs = 0
        public var snapshots = 0
        /// Pack headers read.
        public var headersRead = 0
        /// Packs whose header could not be read; they are left out of the index.
        public var damagedPacks: [String] = []
        /// Index objects that could not be read.
        public var damagedIndexObjects: [String] = []
        /// Packs that no index object named, now named by a new one.
        public var reindexedPacks = 0
        /// Unreadable index objects deleted once every pack was named by a readable one.
        public var removedIndexObjects: [String] = []
    }

    /// Names `packs` (complete packs in the store that no readable index
    /// object names) in a new index object, from their own headers: what a
    /// rebuild does for them, without touching anything else. Returns how
    /// many were named.
    public func indexPacks(_ packs: Set<PackID>) async throws -> Int {
        var found: [IndexedPack] = []
        for id in packs.sorted() {
            guard let size = try await repo.store.size(ObjectKey(.data, id.hex)) else { continue }
            let header = try await repo.readPackHeader(id, size: size)
            found.append(IndexedPack(id: id, type: header.type, size: size, entries: header.entries))
        }
        guard !found.isEmpty else { return 0 }
        try repo.index.addPacks(found, indexed: false)
        try await repo.saveIndexDelta(found)
        return found.count
    }

    /// Index entries a rebuild holds before handing them to the cache (and, for packs no
    /// index object named, to a new index object): bounds its memory, not the repository.
    static let batchEntries = 200_000

    public func rebuild() async throws -> Result {
        try await repo.checkMayDelete(.index, before: "index rebuild")
        var result = Result()
        let view = try await StoreIndexView.load(repo)
        result.damagedIndexObjects = view.unreadable.map { "\($0.name): \($0.problem)" }
        try repo.index.reset()
        // The cache is empty: its entries go in sorted by id, not pack by pack.
        let load = try IndexBulkLoad(index: repo.index, directory: repo.cacheDirectory)
        let packKeys = try await repo.store.list(.data)
        progress.update { $0.bytesTotal = UInt64(packKeys.count) }
        // Packs go to the cache a batch at a time (memory stays bounded however many blobs the
        // repository holds); those no index object named are named by new index objects as
        // each batch fills.
        var named: [IndexedPack] = [], uncovered: [IndexedPack] = []
        var namedEntries = 0, uncoveredEntries = 0
        func addNamed() throws {
            try load.add(named, indexed: true)
            named.removeAll(); namedEntries = 0
        }
        func addUncovered() async throws {
            guard !uncovered.isEmpty else { return }
            try repo.index.addPacks(uncovered, indexed: false)
            try await repo.flushUnindexedPacks()
            result.reindexedPacks += uncovered.count
            uncovered.removeAll(); uncoveredEntries = 0
        }
        for key in packKeys {
            defer { progress.update { $0.bytesDone += 1 } }
            guard let id = PackID(hex: key.name) else { continue }
            let isNamed = view.names(pack: id)
            if isNamed, !readAllPacks, let pack = try view.pack(id) {
                named.append(pack); namedEntries += pack.entries.count
                result.packs += 1; result.blobs += pack.entries.count
                if namedEntries >= Self.batchEntries { try addNamed() }
                continue
            }
            guard let size = try await repo.store.size(key) else { continue }
            do {
                let header = try await repo.readPackHeader(id, size: size)
                result.headersRead += 1
                let pack = IndexedPack(id: id, type: header.type, size: size, entries: header.entries)
                result.packs += 1; result.blobs += header.entries.count
                if isNamed {
                    named.append(pack); namedEntries += pack.entries.count
                    if namedEntries >= Self.batchEntries { try addNamed() }
                } else {
                    uncovered.append(pack); uncoveredEntries += pack.entries.count
                    if uncoveredEntries >= Self.batchEntries { try await addUncovered() }
                }
            } catch {
                result.damagedPacks.append("\(key.name): \(describe(error))")
            }
        }
        try addNamed()
        try load.finish()
        let unreadable = Set(view.unreadable.map(\.name))
        for name in view.objectNames where !unreadable.contains(name) { try repo.index.markIndexed([], indexObject: name) }
        try await addUncovered()
        // An index object that cannot be read (damaged, or stored under another object's name)
        // adds nothing once every pack in the store is named by a readable one: it goes, so
        // that scrub is clean again. Not when a pack header was unreadable: then the damaged
        // object may be the only record of that pack.
        if result.damagedPacks.isEmpty {
            for u in view.unreadable {
                try await repo.store.delete(ObjectKey(.index, u.name))
                result.removedIndexObjects.append(u.name)
            }
        }
        try await repo.sync()
        result.snapshots = try repo.snapshots().count
        return result
    }
}

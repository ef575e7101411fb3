import CairnFormat
import CairnStorage

/// Recreates the SQLite index from the store alone: every pack's header,
/// every snapshot. Packs that no index delta in the store names are written
/// to a new delta, so other machines see them too.
public struct IndexRebuilder {
    let repo: Repository
    public let progress: WorkProgress

    public init(repo: Repository, progress: WorkProgress = WorkProgress()) { self.repo = repo; self.progress = progress }

    public struct Result: Sendable {
        public var packs = 0
        public var blobs = 0
        public var snapshots = 0
        /// Packs whose header could not be read; they are left out of the index.
        public var damagedPacks: [String] = []
        /// Packs that no index delta named, now named by a new one.
        public var reindexedPacks = 0
    }

    public func rebuild() async throws -> Result {
        var result = Result()
        // Which packs the store's own index deltas already cover.
        var covered = Set<ChunkID>()
        for key in try await repo.store.list(.index) {
            if let delta = try? IndexDelta.decode(try repo.keys.openObject(.index, try await repo.store.get(key))) {
                for p in delta.packs { covered.insert(p.id) }
            }
        }
        try repo.index.reset()
        let packKeys = try await repo.store.list(.data)
        progress.update { $0.bytesTotal = UInt64(packKeys.count) }
        var uncovered: [IndexedPack] = []
        for key in packKeys {
            guard let id = ChunkID(hex: key.name), let size = try await repo.store.size(key) else { continue }
            do {
                let header = try await repo.readPackHeader(id, size: size)
                let pack = IndexedPack(id: id, type: header.type, size: size, entries: header.entries)
                try repo.index.addPacks([pack], indexed: covered.contains(id))
                if !covered.contains(id) { uncovered.append(pack) }
                result.packs += 1
                result.blobs += header.entries.count
            } catch {
                result.damagedPacks.append("\(key.name): \(describe(error))")
            }
            progress.update { $0.bytesDone += 1 }
        }
        if !uncovered.isEmpty {
            try await repo.saveIndexDelta(uncovered)
            result.reindexedPacks = uncovered.count
        }
        // Mark every existing delta as loaded: the packs they name were just read from their headers.
        for key in try await repo.store.list(.index) {
            try repo.index.markIndexed([], indexObject: key.name)
        }
        try await repo.sync()
        result.snapshots = try repo.snapshots().count
        return result
    }
}

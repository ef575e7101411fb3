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
        /// Most index entries held decoded at once (index objects in flight, a batch of pack
        /// headers): what bounds the rebuild's memory, whatever the repository's size.
        public var mostEntriesHeld = 0
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

    /// Pack entries a rebuild gathers from pack headers before they go to the cache and a new
    /// index object: bounds its memory, not the repository.
    static let batchEntries = 200_000

    /// Streams the store's index into an emptied cache. Memory holds a few index objects at a
    /// time (`Repository.indexReadWindow`), a batch of pack headers and a set of pack ids, never
    /// a table of every blob: each index object's packs go to an `IndexBulkLoad` (which sorts
    /// them on disk) as it is decoded, as a sync into a cold cache loads them, with each
    /// object recorded as naming its packs. Packs no readable object names (or every pack,
    /// with `readAllPacks`) are then read from their headers.
    public func rebuild() async throws -> Result {
        try await repo.checkMayDelete(.index, before: "index rebuild")
        var result = Result()
        var stored = Set<PackID>()
        for key in try await repo.store.list(.data) { if let id = PackID(hex: key.name) { stored.insert(id) } }
        progress.update { $0.bytesTotal = UInt64(stored.count) }
        try repo.index.reset()
        // The cache is empty: its entries go in sorted by id, not pack by pack.
        let load = try IndexBulkLoad(index: repo.index, directory: repo.cacheDirectory)
        let named = try await loadIndexObjects(into: load, stored: stored, result: &result)
        var headers = HeaderBatches(rebuilder: self, load: load)
        for id in stored.sorted() where readAllPacks || !named.packs.contains(id) {
            defer { progress.update { $0.bytesDone += 1 } }
            try await headers.read(id, named: named.packs.contains(id), result: &result)
        }
        try headers.flushNamed()
        try load.finish()
        // With `readAllPacks` the objects' entries were not loaded: each is recorded as naming its packs.
        for o in named.objects { try repo.index.markIndexed(o.packs, indexObject: o.name, size: o.size) }
        try await headers.flushUncovered(result: &result)
        result.mostEntriesHeld = max(result.mostEntriesHeld, named.mostEntriesHeld)
        // An index object that cannot be read (damaged, or stored under another object's name)
        // adds nothing once every pack in the store is named by a readable one: it goes, so
        // that scrub is clean again. Not when a pack header was unreadable: then the damaged
        // object may be the only record of that pack.
        if result.damagedPacks.isEmpty {
            for name in named.unreadable {
                try await repo.store.delete(ObjectKey(.index, name))
                result.removedIndexObjects.append(name)
            }
        }
        try await repo.sync()
        result.snapshots = try repo.snapshots().count
        return result
    }

    /// What the index objects named, as `rebuild` needs it after loading them.
    private struct NamedPacks {
        /// Packs some readable index object names.
        var packs = Set<PackID>()
        /// With `readAllPacks`: each readable object and the stored packs it names.
        var objects: [(name: String, size: Int, packs: [PackID])] = []
        var unreadable: [String] = []
        var mostEntriesHeld = 0
    }

    /// Hands each readable index object's stored packs to `load` (or, with `readAllPacks`, only
    /// notes which packs it names), one object at a time.
    private func loadIndexObjects(into load: IndexBulkLoad, stored: Set<PackID>, result: inout Result) async throws -> NamedPacks {
        var named = NamedPacks()
        // Entries of the last few objects: those decoded ahead of this one are held too.
        var recent: [Int] = []
        try await repo.readIndexObjects { key, read in
            switch read {
            case .unreadable(let why):
                named.unreadable.append(key.name)
                result.damagedIndexObjects.append("\(key.name): \(why)")
            case .delta(let delta, let size):
                recent.append(delta.packs.reduce(0) { $0 + $1.entries.count })
                if recent.count > Repository.indexReadWindow + 1 { recent.removeFirst() }
                named.mostEntriesHeld = max(named.mostEntriesHeld, recent.reduce(0, +))
                let packs = delta.packs.filter { stored.contains($0.id) }
                for p in packs where named.packs.insert(p.id).inserted {
                    result.packs += readAllPacks ? 0 : 1
                    result.blobs += readAllPacks ? 0 : p.entries.count
                    if !readAllPacks { progress.update { $0.bytesDone += 1 } }
                }
                if readAllPacks {
                    named.objects.append((key.name, size, packs.map(\.id)))
                } else {
                    // Every object's packs, as a sync loads them: a pack named twice keeps the
                    // entries first loaded, and each object is recorded as naming its packs.
                    try load.add(packs, indexed: true, object: (key.name, size))
                }
            }
        }
        return named
    }

    /// Pack headers read by `rebuild`, gathered a batch at a time.
    private struct HeaderBatches {
        let rebuilder: IndexRebuilder
        let load: IndexBulkLoad
        /// Packs an index object names (read with `readAllPacks`): to the cache as indexed.
        var named: [IndexedPack] = [], namedEntries = 0
        /// Packs no index object names: to the cache and a new index object.
        var uncovered: [IndexedPack] = [], uncoveredEntries = 0

        init(rebuilder: IndexRebuilder, load: IndexBulkLoad) { self.rebuilder = rebuilder; self.load = load }

        mutating func read(_ id: PackID, named isNamed: Bool, result: inout Result) async throws {
            let repo = rebuilder.repo
            let key = ObjectKey(.data, id.hex)
            guard let size = try await repo.store.size(key) else { return }
            do {
                let header = try await repo.readPackHeader(id, size: size)
                result.headersRead += 1
                let pack = IndexedPack(id: id, type: header.type, size: size, entries: header.entries)
                result.packs += 1; result.blobs += header.entries.count
                if isNamed {
                    named.append(pack); namedEntries += pack.entries.count
                    result.mostEntriesHeld = max(result.mostEntriesHeld, namedEntries)
                    if namedEntries >= IndexRebuilder.batchEntries { try flushNamed() }
                } else {
                    uncovered.append(pack); uncoveredEntries += pack.entries.count
                    result.mostEntriesHeld = max(result.mostEntriesHeld, uncoveredEntries)
                    if uncoveredEntries >= IndexRebuilder.batchEntries { try await flushUncovered(result: &result) }
                }
            } catch {
                result.damagedPacks.append("\(key.name): \(describe(error))")
            }
        }

        mutating func flushNamed() throws {
            try load.add(named, indexed: true)
            named.removeAll(); namedEntries = 0
        }

        mutating func flushUncovered(result: inout Result) async throws {
            guard !uncovered.isEmpty else { return }
            let repo = rebuilder.repo
            try repo.index.addPacks(uncovered, indexed: false)
            try await repo.flushUnindexedPacks()
            result.reindexedPacks += uncovered.count
            uncovered.removeAll(); uncoveredEntries = 0
        }
    }
}

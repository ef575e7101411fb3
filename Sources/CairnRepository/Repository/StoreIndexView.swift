import CairnCrypto
import CairnFormat
import CairnIndex
import CairnStorage

/// The index as the store states it (its index objects), independent of the
/// local cache: what a scrub or repair must trust.
///
/// Its entries are in an `IndexEntryTable` (records in a scratch file beside
/// the cache, ~12 bytes a blob in memory), so a repository of 100 million
/// blobs is viewed in about 1.2 GB; packs and locations are read back as asked.
package final class StoreIndexView: @unchecked Sendable {
    package struct BlobKey: Hashable {
        package let id: ChunkID
        package let type: BlobType
        package init(id: ChunkID, type: BlobType) { self.id = id; self.type = type }
    }

    package let table: IndexEntryTable
    /// Index objects that could not be read, with why.
    package private(set) var unreadable: [(name: String, problem: String)] = []
    package private(set) var objectNames: [String] = []

    private init(table: IndexEntryTable) { self.table = table }

    /// Reads every index object (`Repository.readIndexObjects`: one merged away meanwhile is
    /// not damage); one that cannot be used is listed in `unreadable` with why.
    package static func load(_ repo: Repository, rounds: Int = 8) async throws -> StoreIndexView {
        // A pack named by several index objects is as the last one (by name, within a round) says.
        let view = StoreIndexView(table: try IndexEntryTable(directory: repo.cacheDirectory, repeatedPacks: .keepLast))
        try await repo.readIndexObjects(rounds: rounds) { key, read in
            view.objectNames.append(key.name)
            switch read {
            case .unreadable(let why): view.unreadable.append((key.name, why))
            case .delta(let delta, _): for p in delta.packs { try view.table.add(p) }
            }
        }
        try view.table.finish()
        return view
    }

    // MARK: packs

    /// Packs the index names.
    package var packCount: Int { table.liveSlots.count }

    /// Ids of the packs the index names, in no particular order.
    package var packIDs: [PackID] { table.liveSlots.map { table.packs[$0].id } }

    /// Whether the index names pack `id`.
    package func names(pack id: PackID) -> Bool { table.slot(of: id) != nil }

    /// Pack `id` as the index names it, entries read back; nil when not named.
    package func pack(_ id: PackID) throws -> IndexedPack? {
        guard let slot = table.slot(of: id) else { return nil }
        return try table.pack(slot)
    }

    /// The size and type the index gives pack `id`, without its entries.
    package func packInfo(_ id: PackID) -> IndexEntryTable.Pack? { table.slot(of: id).map { table.packs[$0] } }

    /// Every pack the index names, one at a time with its entries (in the order loaded).
    package func forEachPack(_ body: (IndexedPack) throws -> Void) throws {
        try table.forEachPack { _, p in try body(p) }
    }

    // MARK: blobs

    /// Where readers find a blob. Where it is stored more than once, the copy
    /// to use is one that can be decoded: a whole copy, else a delta whose
    /// base is stored whole (format-spec §8), else the first loaded. A delta
    /// whose base is gone must not hide a good copy.
    package func location(_ k: BlobKey) throws -> BlobLocation? {
        let found = try table.entries(of: k.id, k.type)
        guard let first = found.first else { return nil }
        func at(_ f: (record: Int, entry: BlobEntry)) -> BlobLocation {
            BlobLocation(pack: table.packs[table.slot(ofRecord: f.record)].id, offset: f.entry.offset, length: f.entry.length,
                         rawLength: f.entry.rawLength, base: f.entry.base)
        }
        guard found.count > 1 else { return at(first) }
        let firstSlot = table.slot(ofRecord: first.record)
        let copies = [first] + found.dropFirst().filter { table.slot(ofRecord: $0.record) != firstSlot }
        guard copies.count > 1 else { return at(first) }
        if let w = copies.first(where: { $0.entry.base == nil }) { return at(w) }
        for d in copies { if let b = d.entry.base, try hasWholeCopy(b) { return at(d) } }
        return at(first)
    }

    /// Whether some entry stores data chunk `id` whole.
    private func hasWholeCopy(_ id: ChunkID) throws -> Bool {
        try table.entries(of: id, .data).contains { $0.entry.base == nil }
    }

    /// The location of a data chunk by this view (for delta bases).
    package func dataLocation(_ id: ChunkID) throws -> BlobLocation? { try location(BlobKey(id: id, type: .data)) }

    /// Whether the index names a whole copy of data chunk `id` (one a delta can be decoded against).
    package func storesWhole(_ id: ChunkID) throws -> Bool { try hasWholeCopy(id) }

    /// Per pack, the delta entries whose base no index object names as a
    /// whole data blob: they cannot be decoded (format-spec §8).
    package func undecodableDeltas() throws -> [PackID: [BlobEntry]] {
        var out: [PackID: [BlobEntry]] = [:]
        for slot in table.liveSlots {
            let p = table.packs[slot]
            var bad: [BlobEntry] = []
            try table.forEachRecord(in: p.records) { r, rec in
                guard table.isDelta[r], let base = rec.base else { return }
                if try !storesWhole(base) { bad.append(rec.entry) }
            }
            if !bad.isEmpty { out[p.id] = bad }
        }
        return out
    }

    /// Every blob's location, in a dictionary: for tests and small
    /// repositories only (it is the memory this view exists to avoid).
    package func allBlobLocations() throws -> [BlobKey: BlobLocation] {
        var out: [BlobKey: BlobLocation] = [:]
        try table.forEachBlob { type, records in
            let id = try table.id(ofRecord: records[0])
            out[BlobKey(id: id, type: type)] = try location(BlobKey(id: id, type: type))
        }
        return out
    }
}

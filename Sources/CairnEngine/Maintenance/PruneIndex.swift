import CairnFormat
import CairnIndex
import CairnRepository

/// What a prune knows about every index entry, in memory that does not grow
/// with the repository beyond a few bytes per blob: the entries themselves in
/// an `IndexEntryTable` (12 bytes a blob in memory, records on disk), and per
/// entry a handful of bits; per pack a few counters. Decisions that need an
/// entry's length or base read the records pack by pack, in order.
///
/// "Record" is an entry's number in the table; "slot" a pack's. A blob's
/// records are every entry naming it; its locations are those records
/// less a repeat in a pack that already has one.
final class PruneIndex {
    let table: IndexEntryTable
    /// Per slot: the pack is in the store.
    let present: [Bool]
    /// Per record: the blob is named again in the same pack by an earlier record (no location of its own).
    private(set) var repeatInSlot: BitSet
    /// Per record: in a pack that is in the store, and decodable (whole, or a
    /// delta whose base is stored whole in a pack in the store).
    private(set) var usable: BitSet
    /// Per record: its blob is used (every record of a used blob has it).
    private(set) var used: BitSet
    /// Distinct blobs marked used.
    private(set) var usedBlobs = 0
    /// Per record: its blob, a data chunk, is the base of a used delta and must stay whole.
    private(set) var wholeNeeded: BitSet
    /// Per record: the copy of a used blob that stays.
    private(set) var chosen: BitSet
    /// Per record: its blob is kept only as a base (no repack budget); counted once per blob.
    private(set) var keptAsBase: BitSet
    private(set) var basesKept = 0

    /// Per slot, from the last `chooseCopies`: bytes and count of the blobs chosen to stay
    /// there, and bytes of the used blobs stored there (chosen or not).
    private(set) var usedBytes: [UInt64]
    private(set) var usedCount: [Int]
    private(set) var candidateBytes: [UInt64]

    init(table: IndexEntryTable, present: [Bool]) throws {
        self.table = table
        self.present = present
        let n = table.recordCount
        repeatInSlot = BitSet(count: n); usable = BitSet(count: n); used = BitSet(count: n)
        wholeNeeded = BitSet(count: n); chosen = BitSet(count: n); keptAsBase = BitSet(count: n)
        usedBytes = Array(repeating: 0, count: table.packs.count)
        usedCount = Array(repeating: 0, count: table.packs.count)
        candidateBytes = Array(repeating: 0, count: table.packs.count)
        try table.forEachBlob { _, records in
            guard records.count > 1 else { return }
            var slots = Set<Int>()
            for r in records where !slots.insert(table.slot(ofRecord: r)).inserted { repeatInSlot.insert(r) }
        }
        // A delta can be decoded only while its base is stored whole in a pack that exists
        // (format-spec §8). A delta whose base is gone is no copy at all: never chosen, never read.
        for slot in table.packs.indices where present[slot] {
            let range = table.packs[slot].records
            var deltas = false
            for r in range { if table.isDelta[r] { deltas = true } else { usable.insert(r) } }
            guard deltas else { continue }
            try table.forEachRecord(in: range) { r, rec in
                if let base = rec.base, try storedWhole(base) { usable.insert(r) }
            }
        }
    }

    /// Bytes of memory per index entry this prune holds (the table's and its bits), for the tests' bound.
    var memoryBytes: Int {
        table.memoryBytes + repeatInSlot.bytes + usable.bytes + used.bytes + wholeNeeded.bytes + chosen.bytes + keptAsBase.bytes
            + table.packs.count * (8 + 8 + 8 + 1)
    }

    // MARK: lookup

    /// Whether data chunk `id` is stored whole in a pack in the store.
    func storedWhole(_ id: ChunkID) throws -> Bool {
        try table.entries(of: id, .data).contains { $0.entry.base == nil && present[table.slot(ofRecord: $0.record)] }
    }

    /// The blob's locations (records, in the order loaded).
    func locations(_ id: ChunkID, _ type: BlobType) throws -> [Int] {
        try table.records(id, type).filter { !repeatInSlot[$0] }
    }

    func location(_ record: Int) throws -> BlobLocation {
        let e = try table.entry(record)
        return BlobLocation(pack: table.packs[table.slot(ofRecord: record)].id, offset: e.offset, length: e.length, rawLength: e.rawLength, base: e.base)
    }

    // MARK: marking

    /// Marks a data chunk a snapshot references; false when the index names it nowhere.
    ///
    /// The hot path of the mark: a chunk whose 62-bit key only one entry has
    /// is taken for that entry without reading its id. Were the chunk absent
    /// and another to share the key (a chance of ~entries/2^62), that other
    /// blob would be kept and the absence go unnoticed here: nothing is lost
    /// that was not lost already, and scrub, which compares full ids, reports it.
    func markData(_ id: ChunkID) throws -> Bool {
        let records = try table.records(id, .data, exact: false)
        guard let first = records.first else { return false }
        if used.insert(first) { usedBlobs += 1 }
        for r in records.dropFirst() { used.insert(r) }
        return true
    }

    /// Marks a tree or list blob (ids compared in full). Nil when the index
    /// names it nowhere, false when it was marked before, true when now.
    func markMetadata(_ id: ChunkID, _ type: BlobType) throws -> Bool? {
        let records = try table.records(id, type)
        guard let first = records.first else { return nil }
        guard used.insert(first) else { return false }
        usedBlobs += 1
        for r in records.dropFirst() { used.insert(r) }
        return true
    }

    /// Whether blob (`id`, `type`) is marked used.
    func isUsed(_ id: ChunkID, _ type: BlobType) throws -> Bool {
        guard let r = try table.records(id, type).first else { return false }
        return used[r]
    }

    /// A base named by any usable copy of a used delta blob is used too, and
    /// must stay whole (format-spec §8): whichever copy stays, its base stays.
    /// Runs over every used delta.
    func markBasesOfUsedDeltas() throws {
        var frontier: [ChunkID] = []
        for slot in table.packs.indices where present[slot] {
            let range = table.packs[slot].records
            guard range.contains(where: { table.isDelta[$0] && used[$0] && usable[$0] && !repeatInSlot[$0] }) else { continue }
            try table.forEachRecord(in: range) { r, rec in
                guard used[r], usable[r], !repeatInSlot[r], let base = rec.base else { return }
                try noteBase(base, frontier: &frontier)
            }
        }
        try markBases(frontier)
    }

    /// `markBasesOfUsedDeltas` for data chunks newly marked used (`ids`).
    func markBases(_ ids: [ChunkID]) throws {
        var frontier = ids
        while let id = frontier.popLast() {
            for r in try locations(id, .data) where usable[r] && table.isDelta[r] {
                if let base = try table.entry(r).base { try noteBase(base, frontier: &frontier) }
            }
        }
    }

    private func noteBase(_ base: ChunkID, frontier: inout [ChunkID]) throws {
        let records = try table.records(base, .data)
        for r in records { wholeNeeded.insert(r) }
        if let first = records.first, !used[first] {
            for r in records { used.insert(r) }
            usedBlobs += 1
            frontier.append(base)
        }
    }

    /// Keeps data chunk `id` (stored whole somewhere) as a base a staying
    /// delta needs; true when that changed anything.
    func keepAsBase(_ id: ChunkID) throws -> Bool {
        let records = try table.records(id, .data)
        guard let first = records.first else { return false }
        var changed = false
        if !wholeNeeded[first] { changed = true }
        for r in records { wholeNeeded.insert(r) }
        if !used[first] {
            for r in records { used.insert(r) }
            usedBlobs += 1
            changed = true
            try markBases([id])
        }
        if keptAsBase.insert(first) { basesKept += 1 }
        return changed
    }

    /// Calls `body` with each used blob that no usable location holds (the first one stops a prune).
    func firstUnstoredUsedBlob() throws -> (BlobType, ChunkID, [Int])? {
        var found: (BlobType, [Int])?
        try table.forEachBlob { type, records in
            guard found == nil, used[records[0]] else { return }
            if !records.contains(where: { usable[$0] && !repeatInSlot[$0] }) { found = (type, records) }
        }
        guard let (type, records) = found else { return nil }
        return (type, try table.id(ofRecord: records[0]), records.filter { !repeatInSlot[$0] })
    }

    // MARK: choosing copies

    /// Chooses the copy of each used blob that stays: its only location, or
    /// among several the one in the pack whose share of used bytes is
    /// highest; a blob other deltas need as their base stays in a copy stored
    /// whole. Then counts per pack what is chosen.
    func chooseCopies() throws {
        for i in usedBytes.indices { usedBytes[i] = 0; usedCount[i] = 0; candidateBytes[i] = 0 }
        chosen.removeAll()
        try forEachUsedRecord { slot, r, rec in
            if usable[r] && !repeatInSlot[r] { candidateBytes[slot] += UInt64(rec.length) }
        }
        var problem: String?
        try table.forEachBlob { type, records in
            guard used[records[0]], problem == nil else { return }
            if records.count == 1 && usable[records[0]] && !(type == .data && wholeNeeded[records[0]] && table.isDelta[records[0]]) {
                chosen.insert(records[0])
                return
            }
            var candidates = records.filter { usable[$0] && !repeatInSlot[$0] }
            if type == .data && wholeNeeded[records[0]] { candidates = candidates.filter { !table.isDelta[$0] } }
            guard let best = candidates.max(by: { a, b in
                let pa = table.packs[table.slot(ofRecord: a)], pb = table.packs[table.slot(ofRecord: b)]
                let ra = Double(candidateBytes[table.slot(ofRecord: a)]) / Double(max(pa.size, 1))
                let rb = Double(candidateBytes[table.slot(ofRecord: b)]) / Double(max(pb.size, 1))
                return ra != rb ? ra < rb : pa.id > pb.id
            }) else {
                problem = "a used \(type) blob has no copy that can stay"
                return
            }
            chosen.insert(best)
        }
        if let problem { throw CairnError.other("\(problem): prune stops; run 'cairn scrub' and 'cairn repair'") }
        try forEachUsedRecord { slot, r, rec in
            if chosen[r] { usedBytes[slot] += UInt64(rec.length); usedCount[slot] += 1 }
        }
    }

    /// Every record of a used blob, pack by pack (packs with none are not read).
    private func forEachUsedRecord(_ body: (Int, Int, IndexEntryTable.Record) throws -> Void) throws {
        for slot in table.packs.indices where present[slot] {
            let range = table.packs[slot].records
            guard range.contains(where: { used[$0] }) else { continue }
            try table.forEachRecord(in: range) { r, rec in
                if used[r] { try body(slot, r, rec) }
            }
        }
    }

    /// Bytes of the pack's entries that are not chosen to stay.
    func unusedBytes(_ slot: Int) -> UInt64 { table.packs[slot].blobBytes - usedBytes[slot] }
}

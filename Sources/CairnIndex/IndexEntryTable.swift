import CairnFormat

/// Every entry of the store's index objects, for one command that must see
/// them all at once (prune, scrub, index rebuild, repair), in memory that
/// does not grow with the repository beyond ~12.2 bytes per entry.
///
/// Entries are written, pack by pack in the order they are added, as
/// fixed-size records to a scratch file (`ScratchFile`: on disk beside the
/// cache, unlinked at once). Memory holds per entry a 12-byte row (the first
/// 62 bits of the id, the type, the record number) sorted for lookup, and one
/// bit (whether it is a delta); per pack a few dozen bytes. A lookup finds
/// the rows of a key in memory; ids that share 62 bits (a collision, or the
/// same blob in several packs) are told apart by reading their full ids from
/// the file, and `exact` lookups read the id of a single match too, so a blob
/// the index does not name is never taken for one it does.
///
/// Built on one task (`add`, then `finish`); after that every method reads
/// only (`pread`), from any task.
public final class IndexEntryTable: @unchecked Sendable {
    /// One pack as added, and where its entries' records are.
    public struct Pack: Sendable {
        public let id: PackID
        public let type: PackType
        public let size: UInt64
        public let records: Range<Int>
        /// Sum of its entries' lengths.
        public let blobBytes: UInt64
    }

    /// What `add` does with a pack added before: the first stays (the later
    /// one is ignored), or the last replaces it.
    public enum RepeatedPack: Sendable { case keepFirst, keepLast }

    /// A record as stored: id 32, type 1, flags 1 (bit 0: a base follows), offset u64le,
    /// length u32le, raw length u32le, base 32 (zeros when none).
    static let recordSize = 82

    private let file: ScratchFile
    private var keys = BlobKeyRows()
    private let repeated: RepeatedPack
    public private(set) var packs: [Pack] = []
    private var slotByID: [PackID: Int32] = [:]
    /// Slots replaced by a later copy of their pack (`keepLast`); their records are no location.
    private var replaced: [Bool] = []
    private var anyReplaced = false
    /// Per record: the entry is a delta (names a base).
    public private(set) var isDelta = BitSet(count: 0)
    private var finished = false

    /// - Parameter directory: where the scratch file goes (the repository's cache directory).
    public init(directory: String, repeatedPacks: RepeatedPack) throws {
        file = try ScratchFile(directory: directory)
        repeated = repeatedPacks
    }

    /// Entries added (records), replaced slots included.
    public var recordCount: Int { isDelta.count }

    /// Adds a pack's entries; false when `keepFirst` ignored it as added before.
    @discardableResult
    public func add(_ pack: IndexedPack) throws -> Bool {
        precondition(!finished, "IndexEntryTable.add after finish")
        if let old = slotByID[pack.id] {
            guard repeated == .keepLast else { return false }
            replaced[Int(old)] = true
            anyReplaced = true
        }
        let first = recordCount
        var bytes = [UInt8](repeating: 0, count: pack.entries.count * Self.recordSize)
        var blobBytes: UInt64 = 0
        try bytes.withUnsafeMutableBytes { raw in
            for (i, e) in pack.entries.enumerated() {
                Self.encode(e, into: raw.baseAddress! + i * Self.recordSize)
                try keys.append(key: BlobKeyRows.key(e.id, e.type), record: first + i)
                isDelta.append(e.base != nil)
                blobBytes += UInt64(e.length)
            }
            try file.append(UnsafeRawBufferPointer(raw))
        }
        slotByID[pack.id] = Int32(packs.count)
        packs.append(Pack(id: pack.id, type: pack.type, size: pack.size, records: first..<(first + pack.entries.count), blobBytes: blobBytes))
        replaced.append(false)
        return true
    }

    /// Ends adding: sorts the rows. Lookups work only after this.
    public func finish() throws {
        guard !finished else { return }
        try file.flush()
        keys.sort()
        finished = true
    }

    /// Bytes this table holds in memory (rows, bits, packs): what bounds it per entry.
    public var memoryBytes: Int {
        keys.bytes + isDelta.bytes + packs.capacity * MemoryLayout<Pack>.stride + replaced.capacity
            + slotByID.capacity * (MemoryLayout<PackID>.stride + MemoryLayout<Int32>.stride + 1)
    }

    // MARK: packs

    /// The slot of pack `id` (its latest copy under `keepLast`).
    public func slot(of id: PackID) -> Int? { slotByID[id].map(Int.init) }

    /// Whether a later copy of the same pack replaced this slot.
    public func isReplaced(_ slot: Int) -> Bool { replaced[slot] }

    /// Slots that count (every slot but replaced ones), in the order added.
    public var liveSlots: [Int] { packs.indices.filter { !replaced[$0] } }

    /// The slot holding record `r`.
    public func slot(ofRecord r: Int) -> Int {
        var lo = 0, hi = packs.count
        while hi - lo > 1 {
            let mid = (lo + hi) >> 1
            if packs[mid].records.lowerBound <= r { lo = mid } else { hi = mid }
        }
        // Empty packs share their lower bound with the next: the slot whose range holds r.
        while lo < packs.count && !packs[lo].records.contains(r) { lo += 1 }
        return lo
    }

    /// A pack with its entries, read back.
    public func pack(_ slot: Int) throws -> IndexedPack {
        let p = packs[slot]
        return IndexedPack(id: p.id, type: p.type, size: p.size, entries: try entries(p.records))
    }

    // MARK: records

    /// One record, read in place (valid only inside the closure that gets it).
    public struct Record {
        let raw: UnsafeRawPointer
        public var id: ChunkID { ChunkID(raw: UnsafeRawBufferPointer(start: raw, count: 32)) }
        public var type: BlobType { BlobType(rawValue: raw.load(fromByteOffset: 32, as: UInt8.self)) ?? .data }
        public var hasBase: Bool { raw.load(fromByteOffset: 33, as: UInt8.self) & 1 != 0 }
        public var offset: UInt64 { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 34, as: UInt64.self)) }
        public var length: UInt32 { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 42, as: UInt32.self)) }
        public var rawLength: UInt32 { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 46, as: UInt32.self)) }
        public var base: ChunkID? { hasBase ? ChunkID(raw: UnsafeRawBufferPointer(start: raw + 50, count: 32)) : nil }
        public var entry: BlobEntry {
            BlobEntry(type: type, id: id, offset: offset, length: length, rawLength: rawLength, base: base)
        }
    }

    static func encode(_ e: BlobEntry, into p: UnsafeMutableRawPointer) {
        e.id.copyBytes(to: p)
        p.storeBytes(of: e.type.rawValue, toByteOffset: 32, as: UInt8.self)
        p.storeBytes(of: e.base == nil ? 0 : 1, toByteOffset: 33, as: UInt8.self)
        p.storeBytes(of: e.offset.littleEndian, toByteOffset: 34, as: UInt64.self)
        p.storeBytes(of: e.length.littleEndian, toByteOffset: 42, as: UInt32.self)
        p.storeBytes(of: e.rawLength.littleEndian, toByteOffset: 46, as: UInt32.self)
        e.base?.copyBytes(to: p + 50)
    }

    /// Bytes of records read at once by the sequential passes.
    static let passBytes = 4 << 20

    /// Calls `body` with every record in `range`, in order, read in large blocks.
    public func forEachRecord(in range: Range<Int>, _ body: (Int, Record) throws -> Void) throws {
        precondition(finished, "IndexEntryTable read before finish")
        guard !range.isEmpty else { return }
        let perBlock = max(1, Self.passBytes / Self.recordSize)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: min(range.count, perBlock) * Self.recordSize, alignment: 8)
        defer { buffer.deallocate() }
        var at = range.lowerBound
        while at < range.upperBound {
            let n = min(perBlock, range.upperBound - at)
            try file.read(at: UInt64(at) * UInt64(Self.recordSize), count: n * Self.recordSize, into: buffer)
            for i in 0..<n { try body(at + i, Record(raw: buffer + i * Self.recordSize)) }
            at += n
        }
    }

    /// Every live pack in the order added, with its entries.
    public func forEachPack(_ body: (Int, IndexedPack) throws -> Void) throws {
        for slot in packs.indices where !replaced[slot] { try body(slot, try pack(slot)) }
    }

    /// The entries of records `range`.
    public func entries(_ range: Range<Int>) throws -> [BlobEntry] {
        var out: [BlobEntry] = []
        out.reserveCapacity(range.count)
        try forEachRecord(in: range) { _, r in out.append(r.entry) }
        return out
    }

    /// One record's entry.
    public func entry(_ record: Int) throws -> BlobEntry {
        try withRecord(record) { $0.entry }
    }

    /// Reads one record and hands it to `body`.
    public func withRecord<R>(_ record: Int, _ body: (Record) throws -> R) throws -> R {
        precondition(finished, "IndexEntryTable read before finish")
        return try withUnsafeTemporaryAllocation(byteCount: Self.recordSize, alignment: 8) { buf in
            try file.read(at: UInt64(record) * UInt64(Self.recordSize), count: Self.recordSize, into: buf.baseAddress!)
            return try body(Record(raw: UnsafeRawPointer(buf.baseAddress!)))
        }
    }

    /// The full id of a record (its first 32 bytes).
    public func id(ofRecord record: Int) throws -> ChunkID {
        try withUnsafeTemporaryAllocation(byteCount: 32, alignment: 8) { buf in
            try file.read(at: UInt64(record) * UInt64(Self.recordSize), count: 32, into: buf.baseAddress!)
            return ChunkID(raw: UnsafeRawBufferPointer(buf))
        }
    }

    // MARK: lookup

    /// The records of blob (`id`, `type`) in live slots, in the order added.
    ///
    /// - Parameter exact: read the id of a single match to confirm it. Without,
    ///   a single row with the same 62-bit prefix is taken for the blob: right
    ///   unless the index lacks the blob and holds another that shares the
    ///   prefix (a chance of about entries / 2^62 per lookup of an absent id).
    ///   Several matches are always told apart by their full ids.
    public func records(_ id: ChunkID, _ type: BlobType, exact: Bool = true) throws -> [Int] {
        precondition(finished, "IndexEntryTable looked up before finish")
        let range = keys.range(of: BlobKeyRows.key(id, type))
        if range.isEmpty { return [] }
        var out: [Int] = []
        if range.count == 1 {
            let r = Int(keys[range.lowerBound].record)
            if anyReplaced && replaced[slot(ofRecord: r)] { return [] }
            if exact, try self.id(ofRecord: r) != id { return [] }
            return [r]
        }
        for i in range {
            let r = Int(keys[i].record)
            if anyReplaced && replaced[slot(ofRecord: r)] { continue }
            if try self.id(ofRecord: r) == id { out.append(r) }
        }
        return out
    }

    /// The entries of blob (`id`, `type`) in live slots with their records, in
    /// the order added: `records(id, type, exact: true)` with each record read
    /// once.
    public func entries(of id: ChunkID, _ type: BlobType) throws -> [(record: Int, entry: BlobEntry)] {
        precondition(finished, "IndexEntryTable looked up before finish")
        let range = keys.range(of: BlobKeyRows.key(id, type))
        var out: [(record: Int, entry: BlobEntry)] = []
        for i in range {
            let r = Int(keys[i].record)
            if anyReplaced && replaced[slot(ofRecord: r)] { continue }
            let e = try entry(r)
            if e.id == id && e.type == type { out.append((r, e)) }
        }
        return out
    }

    /// Calls `body` once per distinct blob in live slots with its type and
    /// records (in the order added), in key order. Rows sharing a key are read
    /// to be told apart (`records` reuses one array: copy it to keep it).
    public func forEachBlob(_ body: (BlobType, [Int]) throws -> Void) throws {
        precondition(finished, "IndexEntryTable read before finish")
        var group: [Int] = []
        var ids: [(ChunkID, Int)] = []
        var i = 0
        while i < keys.count {
            let key = keys[i].key
            var j = i + 1
            while j < keys.count && keys[j].key == key { j += 1 }
            let type = BlobType(rawValue: UInt8(key & 3)) ?? .data
            group.removeAll(keepingCapacity: true)
            if j - i == 1 {
                let r = Int(keys[i].record)
                if !(anyReplaced && replaced[slot(ofRecord: r)]) {
                    group.append(r)
                    try body(type, group)
                }
            } else {
                ids.removeAll(keepingCapacity: true)
                for k in i..<j {
                    let r = Int(keys[k].record)
                    if anyReplaced && replaced[slot(ofRecord: r)] { continue }
                    ids.append((try id(ofRecord: r), r))
                }
                // Stable by record within each id: rows are sorted by record already.
                ids.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
                var a = 0
                while a < ids.count {
                    var b = a + 1
                    while b < ids.count && ids[b].0 == ids[a].0 { b += 1 }
                    group.removeAll(keepingCapacity: true)
                    for k in a..<b { group.append(ids[k].1) }
                    try body(type, group)
                    a = b
                }
            }
            i = j
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
import CairnFormat

/// The in-memory half of `IndexEntryTable`: one 12-byte row per index entry,
/// the entry's key (the first 62 bits of its id and its 2-bit type) and its
/// record number in the scratch file, sorted by key for lookup.
///
/// Twelve bytes a row is what bounds memory: 100 million entries take 1.2 GB.
/// Rows grow with `realloc`, which glibc serves from a memory mapping grown in
/// place (`mremap`) once the block is large, so growing never holds the old
/// and the new rows at once, and capacity not yet used is never touched (not
/// resident). Sorting is in place.
struct BlobKeyRows: ~Copyable {
    /// A row: the key in two halves (so the row packs to 12 bytes, not 16) and the record.
    struct Row {
        var hi: UInt32
        var lo: UInt32
        var record: UInt32
        @inline(__always) var key: UInt64 { UInt64(hi) << 32 | UInt64(lo) }
    }

    private var rows: UnsafeMutablePointer<Row>?
    private(set) var count = 0
    private var capacity = 0
    /// For each value of a key's top `directoryBits` bits, the first row with it (sorted rows only).
    private var directory: [UInt32] = []
    /// About one directory slot per 16 rows, at most 2^16 slots (256 KiB): a fixed cost small beside the rows.
    private var directoryBits = 1

    init() {}

    deinit { free(rows) }

    /// The key of a blob: its id's first 62 bits, then its type.
    @inline(__always) static func key(_ id: ChunkID, _ type: BlobType) -> UInt64 {
        (id.w0 & ~3) | UInt64(type.rawValue & 3)
    }

    /// The most rows a table holds (record numbers are 32-bit).
    static let maximumCount = Int(UInt32.max)

    mutating func append(key: UInt64, record: Int) throws {
        if count == capacity {
            guard count < Self.maximumCount else {
                throw ScratchFileError(description: "more than \(Self.maximumCount) index entries: too many for one command's table")
            }
            // Large steps: below glibc's mmap threshold a realloc copies, above it the mapping grows in place.
            let wanted = min(Self.maximumCount, max(1 << 16, capacity < 1 << 22 ? capacity * 2 : capacity + capacity / 2))
            guard let grown = realloc(rows, wanted * MemoryLayout<Row>.stride) else {
                throw ScratchFileError(description: "cannot allocate \(wanted * MemoryLayout<Row>.stride) bytes for the index table")
            }
            rows = grown.assumingMemoryBound(to: Row.self)
            capacity = wanted
        }
        rows![count] = Row(hi: UInt32(truncatingIfNeeded: key >> 32), lo: UInt32(truncatingIfNeeded: key), record: UInt32(record))
        count += 1
    }

    /// Bytes held (capacity; what is resident is at most this).
    var bytes: Int { capacity * MemoryLayout<Row>.stride + directory.count * 4 }

    /// Sorts by key, then record, in place, gives back the capacity not used
    /// (no row is added after), and builds the lookup directory.
    mutating func sort() {
        guard var rows, count > 0 else { directory = []; return }
        if capacity > count, let shrunk = realloc(rows, count * MemoryLayout<Row>.stride) {
            rows = shrunk.assumingMemoryBound(to: Row.self)
            self.rows = rows
            capacity = count
        }
        let buffer = UnsafeMutableBufferPointer(start: rows, count: count)
        // Keys are hash prefixes, so spread evenly: one in-place pass of an American flag sort
        // on the top byte leaves 256 buckets of similar size, each sorted on its own (Swift's
        // sort needs scratch space of half what it sorts: a bucket's, not the whole table's).
        var counts = [Int](repeating: 0, count: 256)
        for r in buffer { counts[Int(r.hi >> 24)] += 1 }
        var starts = [Int](repeating: 0, count: 257)
        for b in 0..<256 { starts[b + 1] = starts[b] + counts[b] }
        var next = Array(starts[0..<256])
        for b in 0..<256 {
            while next[b] < starts[b + 1] {
                var row = buffer[next[b]]
                var target = Int(row.hi >> 24)
                while target != b {
                    swap(&row, &buffer[next[target]])
                    next[target] += 1
                    target = Int(row.hi >> 24)
                }
                buffer[next[b]] = row
                next[b] += 1
            }
        }
        for b in 0..<256 where starts[b + 1] - starts[b] > 1 {
            var bucket = UnsafeMutableBufferPointer(rebasing: buffer[starts[b]..<starts[b + 1]])
            bucket.sort { a, b in
                a.hi != b.hi ? a.hi < b.hi : a.lo != b.lo ? a.lo < b.lo : a.record < b.record
            }
        }
        directoryBits = max(1, min(16, Int.bitWidth - count.leadingZeroBitCount - 4))
        let slots = 1 << directoryBits
        directory = [UInt32](repeating: 0, count: slots + 1)
        var i = 0
        for d in 0..<slots {
            directory[d] = UInt32(i)
            while i < count && Int(buffer[i].hi >> UInt32(32 - directoryBits)) == d { i += 1 }
        }
        directory[slots] = UInt32(count)
    }

    /// The rows with `key` (sorted rows only).
    func range(of key: UInt64) -> Range<Int> {
        guard let rows, count > 0 else { return 0..<0 }
        let d = Int(key >> UInt64(64 - directoryBits))
        let bucketEnd = Int(directory[d + 1])
        var lo = Int(directory[d]), hi = bucketEnd
        while lo < hi {
            let mid = (lo + hi) >> 1
            if rows[mid].key < key { lo = mid + 1 } else { hi = mid }
        }
        var end = lo
        while end < bucketEnd && rows[end].key == key { end += 1 }
        return lo..<end
    }

    subscript(i: Int) -> Row { rows![i] }
}

import CairnFormat
import CairnSystem
#if canImport(Glibc)
import Glibc
#endif

/// Loads many index entries into the cache at once (a cold cache, a rebuilt
/// one, the index a prune rewrote) in the order of the `blobs` table's key.
///
/// The `blobs` table is a B-tree keyed by blob id, and ids are hashes: rows
/// inserted in the order the index objects give them land on a random page
/// each, and once the table outgrows SQLite's page cache nearly every row is
/// a page read and a page write (a 100 M-blob cache then fills for hours:
/// Docs/performance.md, issue 16.3). Here `add` records each pack at once (its `packs` row gives the
/// pid) and sends its entries to a scratch file (`ScratchFile`, unlinked),
/// split into 256 buckets by the id's first byte; `finish` then reads the
/// buckets in order, sorts each in memory (a piece of at most
/// `defaultPieceEntries` entries at a time) and inserts it in one transaction, so the
/// table grows at its end. Memory holds the bucket buffers and one piece, not
/// the entries.
///
/// Which copy of a blob stays is what `RepositoryIndex.addPacks` keeps: entries
/// stored whole go in first, the first loaded of each blob winning; delta
/// entries (rare) follow in the order they were loaded, through the same
/// upsert as one at a time.
///
/// Crash safety: a load is several transactions. While one runs, the cache's
/// `meta` says so (`bulk-load`) and the loader holds an exclusive `flock` on
/// `index.sqlite.load`; the index objects it loads are recorded as loaded
/// only by the last transaction. A process that finds the mark with no live
/// loader (`RepositoryIndex.repairInterruptedLoad`) forgets every blob
/// location from index objects and loads the store's again: rows of a load
/// that was killed are never trusted. Pack rows another process drops while
/// the load runs are checked for before the entries naming them go in
/// (`LoadedPackRows`). Not thread-safe: one owner adds, then finishes.
public final class IndexBulkLoad {
    /// One whole entry as it waits in the scratch file (raw layout: the file lives only as long as this process).
    struct Row {
        var id: ChunkID
        var pid: Int64
        var offset: UInt64
        var length: UInt32
        var rawLength: UInt32
        var type: UInt8
        /// Order within its bucket (set when read back): the first loaded copy of a blob goes in first.
        var sequence: UInt32
    }

    /// A delta entry, kept in load order.
    struct DeltaRow {
        var row: Row
        var base: ChunkID
    }

    private let index: RepositoryIndex
    private let directory: String
    private let lock: LoadLock
    private let rows: ScratchFile
    private var packRows: LoadedPackRows
    private var deltas: ScratchFile?
    private var deltaCount = 0
    /// Per bucket: rows waiting to be written, and the (offset, count) of each run of rows written.
    private var buffers: [[Row]]
    private var runs: [[(offset: UInt64, count: Int)]]
    private var objects: [(name: String, size: Int)] = []
    private var finished = false
    /// Entries added (whole and delta).
    public private(set) var entryCount = 0

    static let bucketCount = 256
    /// Rows a bucket buffers before they go to the scratch file (64 KiB a bucket).
    static let bufferRows = 1024
    /// Most entries sorted and inserted at once by default (32 MiB of rows): a bucket larger
    /// than this (more than ~130 M entries in the index) goes in as several sorted pieces.
    public static let defaultPieceEntries = 1 << 19
    private let pieceEntries: Int
    /// Delta entries per transaction when they are replayed.
    static let deltaBatch = 50_000

    /// Starts a load: waits for another process's load of the same cache to end, then marks the
    /// cache as loading.
    /// - Parameters:
    ///   - directory: where the scratch file goes (the repository's cache directory).
    ///   - pieceEntries: most entries sorted in memory at once.
    public init(index: RepositoryIndex, directory: String, pieceEntries: Int = defaultPieceEntries) throws {
        self.index = index
        self.directory = directory
        self.pieceEntries = max(1, pieceEntries)
        lock = try LoadLock(path: index.path + ".load", wait: true)
        rows = try ScratchFile(directory: directory)
        packRows = try LoadedPackRows(directory: directory, index: index)
        buffers = Array(repeating: [], count: Self.bucketCount)
        runs = Array(repeating: [], count: Self.bucketCount)
        try index.setMeta(RepositoryIndex.bulkLoadKey, "\(getpid())")
    }

    /// Adds packs: each pack's `packs` row now (as `RepositoryIndex.addPacks`), its entries at
    /// `finish`. With `object`, the packs are that index object's (its membership rows now; the
    /// object itself is recorded as loaded by `finish`).
    public func add(_ packs: [IndexedPack], indexed: Bool, object: (name: String, size: Int)? = nil) throws {
        precondition(!finished, "IndexBulkLoad.add after finish")
        var pids: [Int64] = []
        pids.reserveCapacity(packs.count)
        try index.withDatabase { d in
            try d.transaction {
                for p in packs {
                    let pid = try RepositoryIndex.insertPack(p, indexed: indexed, into: d)
                    pids.append(pid)
                    try packRows.record(pid: pid, id: p.id)
                    if let object {
                        try d.statement("INSERT OR IGNORE INTO index_members(object,pid) VALUES(?,?)").bind(1, object.name).bind(2, pid).run()
                    }
                }
            }
        }
        for (p, pid) in zip(packs, pids) {
            for e in p.entries {
                let row = Row(id: e.id, pid: pid, offset: e.offset, length: e.length, rawLength: e.rawLength, type: e.type.rawValue, sequence: 0)
                entryCount += 1
                if let base = e.base {
                    try appendDelta(DeltaRow(row: row, base: base))
                    continue
                }
                let b = Int(e.id.w0 >> 56)
                buffers[b].append(row)
                if buffers[b].count >= Self.bufferRows { try spill(b) }
            }
        }
        if let object { objects.append(object) }
    }

    private func spill(_ b: Int) throws {
        guard !buffers[b].isEmpty else { return }
        runs[b].append((rows.size, buffers[b].count))
        try buffers[b].withUnsafeBytes { try rows.append($0) }
        buffers[b].removeAll(keepingCapacity: true)
    }

    private func appendDelta(_ row: DeltaRow) throws {
        if deltas == nil { deltas = try ScratchFile(directory: directory) }
        try withUnsafeBytes(of: row) { try deltas?.append($0) }
        deltaCount += 1
    }

    /// Inserts every entry, records the index objects as loaded (none of them if another process
    /// dropped a pack row they took meanwhile: the next sync loads them again) and clears the mark.
    public func finish() throws {
        guard !finished else { return }
        finished = true
        for b in 0..<Self.bucketCount { try spill(b) }
        buffers = []
        try rows.flush()
        try deltas?.flush()
        let piece = UnsafeMutablePointer<Row>.allocate(capacity: pieceEntries)
        defer { piece.deallocate() }
        for b in 0..<Self.bucketCount {
            var filled = 0
            for run in runs[b] {
                var done = 0
                while done < run.count {
                    if filled == pieceEntries { try insert(piece, filled); filled = 0 }
                    let n = min(run.count - done, pieceEntries - filled)
                    try rows.read(at: run.offset + UInt64(done * MemoryLayout<Row>.stride), count: n * MemoryLayout<Row>.stride,
                                  into: UnsafeMutableRawPointer(piece + filled))
                    filled += n; done += n
                }
            }
            if filled > 0 { try insert(piece, filled) }
        }
        runs = []
        try insertDeltas()
        try index.withDatabase { d in
            try d.transaction {
                try packRows.check(in: d)
                for o in objects where packRows.stale.isEmpty {
                    try d.statement("INSERT OR IGNORE INTO index_objects(name,size) VALUES(?,?)").bind(1, o.name).bind(2, Int64(o.size)).run()
                }
                try d.statement("DELETE FROM meta WHERE key=?").bind(1, RepositoryIndex.bulkLoadKey).run()
            }
        }
        lock.release()
    }

    /// Sorts `count` rows by id, type and load order, and inserts them in one transaction.
    private func insert(_ piece: UnsafeMutablePointer<Row>, _ count: Int) throws {
        var buffer = UnsafeMutableBufferPointer(start: piece, count: count)
        for i in 0..<count { buffer[i].sequence = UInt32(truncatingIfNeeded: i) }
        buffer.sort { a, b in
            a.id != b.id ? a.id < b.id : a.type != b.type ? a.type < b.type : a.sequence < b.sequence
        }
        try index.withDatabase { d in
            try d.transaction {
                try packRows.check(in: d)
                let s = try d.statement(RepositoryIndex.upsertBlob)
                for r in buffer where packRows.stale.isEmpty || !packRows.stale.contains(r.pid) {
                    s.reset()
                    try s.bind(1, id: r.id).bind(2, Int64(r.type)).bind(3, r.pid).bind(4, Int64(r.offset))
                        .bind(5, Int64(r.length)).bind(6, Int64(r.rawLength)).run()
                }
                s.reset()
            }
        }
    }

    private func insertDeltas() throws {
        guard let deltas, deltaCount > 0 else { return }
        let stride = MemoryLayout<DeltaRow>.stride
        let batch = UnsafeMutablePointer<DeltaRow>.allocate(capacity: Self.deltaBatch)
        defer { batch.deallocate() }
        var at = 0
        while at < deltaCount {
            let n = min(Self.deltaBatch, deltaCount - at)
            try deltas.read(at: UInt64(at * stride), count: n * stride, into: UnsafeMutableRawPointer(batch))
            try index.withDatabase { d in
                try d.transaction {
                    try packRows.check(in: d)
                    let s = try d.statement(RepositoryIndex.upsertBlob)
                    for i in 0..<n where packRows.stale.isEmpty || !packRows.stale.contains(batch[i].row.pid) {
                        let r = batch[i]
                        s.reset()
                        try s.bind(1, id: r.row.id).bind(2, Int64(r.row.type)).bind(3, r.row.pid).bind(4, Int64(r.row.offset))
                            .bind(5, Int64(r.row.length)).bind(6, Int64(r.row.rawLength)).bind(7, id: r.base).run()
                    }
                    s.reset()
                }
            }
            at += n
        }
    }
}

/// The `flock` a bulk load holds on `index.sqlite.load` while it runs: a mark
/// in `meta` with no holder is a load that was killed.
final class LoadLock {
    private var fd: Int32

    /// Takes the lock, waiting for it with `wait`; throws `LoadLock.Busy` when it is held and
    /// `wait` is false.
    init(path: String, wait: Bool) throws {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw SQLiteError(code: 0, message: "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        let taken: Bool
        do { taken = try SystemCall.lockExclusive(fd, wait: wait) } catch {
            close(fd)
            throw SQLiteError(code: 0, message: "cannot lock \(path): \(error)")
        }
        guard taken else { close(fd); throw Busy() }
    }

    struct Busy: Error {}

    func release() {
        guard fd >= 0 else { return }
        SystemCall.unlock(fd)
        close(fd)
        fd = -1
    }

    deinit { release() }
}

extension RepositoryIndex {
    /// The `meta` key a bulk load sets while it runs (`IndexBulkLoad`).
    static let bulkLoadKey = "bulk-load"

    /// After a bulk load that was killed (its mark set, no process holding
    /// its lock), forgets every blob location from index objects (as
    /// `dropBlobLocations`) so that the next sync loads them all again.
    /// Returns whether it did. A load still running in another process is
    /// left alone.
    public func repairInterruptedLoad() throws -> Bool {
        guard try meta(Self.bulkLoadKey) != nil else { return false }
        let lock: LoadLock
        do { lock = try LoadLock(path: path + ".load", wait: false) } catch is LoadLock.Busy { return false }
        defer { lock.release() }
        // The mark again, under the lock: a load that ended meanwhile cleared it.
        guard try meta(Self.bulkLoadKey) != nil else { return false }
        try withDatabase { d in
            try d.transaction {
                try Self.dropBlobLocations(in: d)
                try d.statement("DELETE FROM meta WHERE key=?").bind(1, Self.bulkLoadKey).run()
            }
        }
        return true
    }
}

import CairnFormat

/// The pack rows an `IndexBulkLoad` took its row numbers (`pid`) from, checked again before its
/// entries go in.
///
/// A load records each pack at once and writes the pack's entries, which name it by `pid`, only
/// at `finish`. Another process sharing the cache may drop pack rows meanwhile (a sync after
/// another machine's prune, an index object gone, a rebuild), and SQLite gives a freed `pid` to
/// the next pack recorded: an entry written with it would place its blob in another pack. Every
/// transaction that drops pack rows counts itself in `meta` (`RepositoryIndex.notePackDrops`);
/// when the count moved since the last check, each recorded row is looked up again, and a `pid`
/// that is gone or names another pack is stale from then on: its entries are left out, and the
/// load records none of its index objects as loaded, so the next sync loads them again.
struct LoadedPackRows {
    /// One recorded pack (raw layout: the scratch file lives only as long as this process).
    private struct Record {
        var pid: Int64
        var id: PackID
    }

    private let file: ScratchFile
    private var count = 0
    /// `RepositoryIndex.packDropsKey` when the rows were last known good.
    private var dropsChecked: Int64
    /// Row numbers that no longer name the pack they were taken for.
    private(set) var stale = Set<Int64>()
    /// Records read back per batch when checking.
    private static let batch = 4096

    /// Starts with the count of drops as it is now (before any pack is recorded).
    init(directory: String, index: RepositoryIndex) throws {
        file = try ScratchFile(directory: directory)
        dropsChecked = try index.withDatabase { try RepositoryIndex.packDrops(in: $0) }
    }

    mutating func record(pid: Int64, id: PackID) throws {
        try withUnsafeBytes(of: Record(pid: pid, id: id)) { try file.append($0) }
        count += 1
    }

    /// Inside the caller's write transaction (so no drop can come between the check and the
    /// rows written after it): if pack rows were dropped since the last check, marks every
    /// recorded row that no longer names its pack as stale.
    mutating func check(in d: SQLiteDatabase) throws {
        let drops = try RepositoryIndex.packDrops(in: d)
        guard drops != dropsChecked else { return }
        try file.flush()
        let stride = MemoryLayout<Record>.stride
        let records = UnsafeMutablePointer<Record>.allocate(capacity: Self.batch)
        defer { records.deallocate() }
        let find = try d.statement("SELECT id FROM packs WHERE pid=?")
        var at = 0
        while at < count {
            let n = min(Self.batch, count - at)
            try file.read(at: UInt64(at * stride), count: n * stride, into: UnsafeMutableRawPointer(records))
            for r in UnsafeBufferPointer(start: records, count: n) where !stale.contains(r.pid) {
                find.reset()
                find.bind(1, r.pid)
                if try !find.step() || find.id(0, as: PackID.self) != r.id { stale.insert(r.pid) }
            }
            at += n
        }
        find.reset()
        dropsChecked = drops
    }
}

extension RepositoryIndex {
    /// The `meta` key counting the transactions that dropped pack rows (`LoadedPackRows`).
    static let packDropsKey = "pack-drops"

    /// Counts a drop of pack rows, inside the dropping transaction.
    static func notePackDrops(in d: SQLiteDatabase) throws {
        try d.statement("""
            INSERT INTO meta(key,value) VALUES(?,'1')
            ON CONFLICT(key) DO UPDATE SET value=CAST(CAST(value AS INTEGER) + 1 AS TEXT)
            """).bind(1, packDropsKey).run()
    }

    /// The drops counted so far (0 before the first).
    static func packDrops(in d: SQLiteDatabase) throws -> Int64 {
        let s = try d.statement("SELECT CAST(value AS INTEGER) FROM meta WHERE key=?").bind(1, packDropsKey)
        defer { s.reset() }
        return try s.step() ? s.int(0) : 0
    }
}

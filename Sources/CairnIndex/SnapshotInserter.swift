import CSQLite3

/// The statements that add snapshot rows, prepared once per transaction
/// (a catalogue holds thousands of rows), and the attribute rows they added,
/// counted per key and name until `finish` records them (`attribute_counts`).
struct SnapshotInserter {
    let snapshot, existing, attribute, member: SQLiteStatement
    private var added: [AttributeName: Int64] = [:]

    init(_ d: SQLiteDatabase) throws {
        // A snapshot's id names its content: a row added again (another object holding the same
        // snapshot, or a row read back from the cache into a merged catalogue) is the same row,
        // and keeps its row number, so the attributes and memberships naming it stay valid.
        snapshot = try d.statement("""
            INSERT INTO snapshots(id,name,time,host,source_kind,data) VALUES(?,?,?,?,?,?) ON CONFLICT(id) DO NOTHING
            """)
        existing = try d.statement("SELECT sid FROM snapshots WHERE id=?")
        attribute = try d.statement("INSERT OR IGNORE INTO snapshot_attributes(key,name,value,time,sid) VALUES(?,?,?,?,?)")
        member = try d.statement("INSERT OR IGNORE INTO snapshot_members(object,sid) VALUES(?,?)")
    }

    /// Adds `r` (or finds it) and returns its row number.
    mutating func add(_ r: SnapshotRow, in d: SQLiteDatabase) throws -> Int64 {
        snapshot.reset()
        snapshot.bind(1, r.id).bind(2, r.name).bind(3, r.timeNanos).bind(4, r.host).bind(5, r.sourceKind).bind(6, r.plaintext)
        try snapshot.run()
        let sid: Int64
        if sqlite3Changes(d) == 1 {
            sid = sqlite3LastRowID(d)
        } else {
            existing.reset()
            existing.bind(1, r.id)
            guard try existing.step() else { throw SQLiteError(code: 0, message: "snapshot \(r.id.prefix(12)) neither added nor found") }
            sid = existing.int(0)
            existing.reset()
        }
        // Attributes never change either; one read back carries none, and adding it keeps those recorded.
        for (key, value) in r.attributes {
            attribute.reset()
            try attribute.bind(1, key).bind(2, r.name).bind(3, value).bind(4, r.timeNanos).bind(5, sid).run()
            if sqlite3Changes(d) == 1 { added[AttributeName(key: key, name: r.name), default: 0] += 1 }
        }
        return sid
    }

    /// Records the attribute rows added, in the caller's transaction.
    mutating func finish(in d: SQLiteDatabase) throws {
        try RepositoryIndex.addAttributeCounts(added, in: d)
        added = [:]
    }

    func addMember(object: String, sid: Int64) throws {
        member.reset()
        try member.bind(1, object).bind(2, sid).run()
    }
}

private func sqlite3LastRowID(_ d: SQLiteDatabase) -> Int64 { sqlite3_last_insert_rowid(d.handle) }
private func sqlite3Changes(_ d: SQLiteDatabase) -> Int32 { sqlite3_changes(d.handle) }

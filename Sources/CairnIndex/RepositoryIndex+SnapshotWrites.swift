// MARK: snapshot tables and writes

extension RepositoryIndex {
    /// The tables of snapshots. `snapshot_objects` lists the store objects of
    /// `snapshots/` the cache has loaded; `snapshot_members` which snapshots
    /// each holds. `sync` diffs the store's listing against `snapshot_objects`
    /// (objects, not snapshots), and a snapshot goes from the cache when no
    /// object that holds it is left. `snapshot_attributes` holds each
    /// snapshot's attributes (its `extra` facts) in the order a source looks
    /// them up: by key, name and value (a WAL file by name), then time.
    ///
    /// Members and attributes name a snapshot by its row number (`sid`), not
    /// its 64-character id: a catalogue's rows are added in time order, so
    /// every index but the id's own and the attribute values' grows at its
    /// end, and a cache rebuilt after a disaster writes each page about once
    /// (Docs/performance.md, "Disaster open"). `attribute_counts` holds how
    /// many attribute rows each (key, name) has, kept by every write of
    /// `snapshot_attributes` in the same transaction: `pg status` counts an
    /// archive's files without reading one row per file (schema 7).
    static let snapshotSchema = """
        CREATE TABLE IF NOT EXISTS snapshots(sid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
            time INTEGER NOT NULL, host TEXT NOT NULL DEFAULT '', source_kind TEXT NOT NULL DEFAULT '', data BLOB NOT NULL);
        CREATE INDEX IF NOT EXISTS snapshots_name_time ON snapshots(name, time);
        CREATE INDEX IF NOT EXISTS snapshots_time ON snapshots(time);
        CREATE TABLE IF NOT EXISTS snapshot_attributes(key TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,
            time INTEGER NOT NULL, sid INTEGER NOT NULL, PRIMARY KEY(key, name, value, time, sid)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS snapshot_attributes_sid ON snapshot_attributes(sid, key, value);
        CREATE TABLE IF NOT EXISTS snapshot_objects(name TEXT PRIMARY KEY, kind INTEGER NOT NULL, size INTEGER NOT NULL,
            complete INTEGER NOT NULL DEFAULT 1) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS snapshot_members(object TEXT NOT NULL, sid INTEGER NOT NULL, PRIMARY KEY(object, sid)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS snapshot_members_sid ON snapshot_members(sid);
        CREATE TABLE IF NOT EXISTS attribute_counts(key TEXT NOT NULL, name TEXT NOT NULL, n INTEGER NOT NULL,
            PRIMARY KEY(key, name)) WITHOUT ROWID;
        """

    /// The tables of `snapshotSchema` with the column each must have: a cache
    /// of an older schema (5 named snapshots by id everywhere) loses them when
    /// opened, and `reset` reloads it from the store.
    static let snapshotTables: [(table: String, column: String)] = [
        ("snapshots", "sid"), ("snapshot_attributes", "sid"), ("snapshot_members", "sid"), ("snapshot_objects", "complete"),
    ]

    /// Deletes a snapshot's row and its attributes, counting the attributes gone in `removed`.
    private static func delete(sid: Int64, in d: SQLiteDatabase, removed: inout [AttributeName: Int64]) throws {
        try d.statement("DELETE FROM snapshots WHERE sid=?").bind(1, sid).run()
        let s = try d.statement("DELETE FROM snapshot_attributes WHERE sid=? RETURNING key, name").bind(1, sid)
        while try s.step() { removed[AttributeName(key: s.text(0), name: s.text(1)), default: 0] -= 1 }
        s.reset()
    }

    /// Adds `counts` (negative: rows removed) to `attribute_counts`, in the caller's transaction.
    static func addAttributeCounts(_ counts: [AttributeName: Int64], in d: SQLiteDatabase) throws {
        let s = try d.statement("""
            INSERT INTO attribute_counts(key,name,n) VALUES(?,?,?) ON CONFLICT(key,name) DO UPDATE SET n=n+excluded.n
            """)
        for (k, n) in counts where n != 0 {
            s.reset()
            try s.bind(1, k.key).bind(2, k.name).bind(3, n).run()
        }
    }

    /// Counts every attribute row again (a schema-6 cache upgraded in place).
    static func recountAttributes(in d: SQLiteDatabase) throws {
        try d.execute("""
            DELETE FROM attribute_counts;
            INSERT INTO attribute_counts(key,name,n) SELECT key, name, count(*) FROM snapshot_attributes GROUP BY key, name;
            """)
    }

    /// Records a store object of `snapshots/` and the snapshots it holds, in one transaction.
    /// Rows are added oldest first (a catalogue lists them by id), so that row numbers, and
    /// with them the time, member and attribute indexes, grow in order.
    public func addSnapshotObject(_ object: LoadedSnapshotObject, rows: [SnapshotRow]) throws {
        let ordered = rows.sorted { ($0.timeNanos, $0.id) < ($1.timeNanos, $1.id) }
        try withDatabase { d in
            try d.transaction {
                try d.statement("INSERT OR REPLACE INTO snapshot_objects(name,kind,size,complete) VALUES(?,?,?,?)")
                    .bind(1, object.name).bind(2, object.kind.rawValue).bind(3, object.size).bind(4, object.complete ? 1 : 0).run()
                var inserter = try SnapshotInserter(d)
                for r in ordered {
                    let sid = try inserter.add(r, in: d)
                    try inserter.addMember(object: object.name, sid: sid)
                }
                try inserter.finish(in: d)
            }
        }
    }

    /// A snapshot without a store object of its own (tests, and stores that keep none).
    public func addSnapshot(id: String, name: String, timeNanos: Int64, plaintext: [UInt8]) throws {
        try addSnapshotObject(LoadedSnapshotObject(name: id, kind: .single, size: 0, snapshots: 1),
                              rows: [SnapshotRow(id: id, name: name, timeNanos: timeNanos, plaintext: plaintext)])
    }

    /// Forgets store objects of `snapshots/` that are gone from the store, and
    /// every snapshot no remaining loaded object holds. Returns the ids removed.
    @discardableResult
    public func removeSnapshotObjects(_ names: [String]) throws -> [String] {
        guard !names.isEmpty else { return [] }
        return try withDatabase { d in
            try d.transaction {
                var candidates = Set<Int64>()
                let members = try d.statement("SELECT sid FROM snapshot_members WHERE object=?")
                for n in names {
                    members.reset(); members.bind(1, n)
                    while try members.step() { candidates.insert(members.int(0)) }
                    members.reset()
                    try d.statement("DELETE FROM snapshot_members WHERE object=?").bind(1, n).run()
                    try d.statement("DELETE FROM snapshot_objects WHERE name=?").bind(1, n).run()
                }
                var removed: [(id: String, sid: Int64)] = []
                var attributes: [AttributeName: Int64] = [:]
                let held = try d.statement("SELECT EXISTS(SELECT 1 FROM snapshot_members WHERE sid=?), (SELECT id FROM snapshots WHERE sid=?)")
                for sid in candidates {
                    held.reset(); held.bind(1, sid).bind(2, sid)
                    _ = try held.step()
                    let stillHeld = held.int(0) != 0, id = held.isNull(1) ? nil : held.text(1)
                    held.reset()
                    if !stillHeld {
                        try Self.delete(sid: sid, in: d, removed: &attributes)
                        if let id { removed.append((id, sid)) }
                    }
                }
                try Self.addAttributeCounts(attributes, in: d)
                return removed.map(\.id).sorted()
            }
        }
    }

    /// Drops a snapshot (forgotten, or removed by this process) whatever holds it.
    public func removeSnapshot(id: String) throws { try removeSnapshots(ids: [id]) }

    /// `removeSnapshot` for many, in one transaction.
    public func removeSnapshots(ids: [String]) throws {
        guard !ids.isEmpty else { return }
        try withDatabase { d in
            try d.transaction {
                let find = try d.statement("SELECT sid FROM snapshots WHERE id=?")
                var attributes: [AttributeName: Int64] = [:]
                for id in ids {
                    find.reset(); find.bind(1, id)
                    let sid: Int64? = try find.step() ? find.int(0) : nil
                    find.reset()
                    if let sid {
                        try Self.delete(sid: sid, in: d, removed: &attributes)
                        try d.statement("DELETE FROM snapshot_members WHERE sid=?").bind(1, sid).run()
                    }
                    // Its own object (a single snapshot) goes with it; a catalogue stays loaded.
                    try d.statement("DELETE FROM snapshot_objects WHERE name=? AND kind=?").bind(1, id).bind(2, SnapshotObjectKind.single.rawValue).run()
                }
                try Self.addAttributeCounts(attributes, in: d)
            }
        }
    }
}

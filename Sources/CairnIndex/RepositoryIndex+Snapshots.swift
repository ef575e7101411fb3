/// One cached snapshot: its id, the columns commands select by (indexed, so
/// that `snapshots --name X` and `latest` never decode every snapshot), its
/// indexed attributes, and its encoded plaintext.
public struct SnapshotRow: Sendable, Equatable {
    public var id: String
    public var name: String
    public var timeNanos: Int64
    public var host: String
    /// `tree` or `stream` (format-spec §13).
    public var sourceKind: String
    /// Facts a source selects snapshots by (the snapshot's `extra`), indexed by
    /// (key, name, value) so that a source adapter finds its snapshots without
    /// decoding any (`snapshots(_:fields:)`). Written with the row and kept while
    /// the snapshot is cached; a row read back carries none (its plaintext holds
    /// them all), and adding it again keeps the ones recorded.
    public var attributes: [String: String]
    public var plaintext: [UInt8]

    public init(id: String, name: String, timeNanos: Int64, host: String = "", sourceKind: String = "",
                attributes: [String: String] = [:], plaintext: [UInt8]) {
        self.id = id; self.name = name; self.timeNanos = timeNanos; self.host = host; self.sourceKind = sourceKind
        self.attributes = attributes; self.plaintext = plaintext
    }
}

/// A snapshot found by one of its indexed attributes (`RepositoryIndex.snapshots(name:attribute:)`).
public struct AttributedSnapshot: Sendable, Hashable {
    public var id: String
    public var timeNanos: Int64
    /// The value of the attribute searched by.
    public var value: String
    /// Those of the attributes asked for (`fields`) that the snapshot has.
    public var attributes: [String: String]

    public init(id: String, timeNanos: Int64, value: String, attributes: [String: String] = [:]) {
        self.id = id; self.timeNanos = timeNanos; self.value = value; self.attributes = attributes
    }
}

/// Which snapshots an attribute query selects: those of one name that carry
/// attribute `key` (with exactly `value`, or a value matching the SQLite GLOB
/// `valueGlob`, when given) and every attribute in `requiring`.
public struct AttributeQuery: Sendable, Hashable {
    public var name: String
    public var key: String
    public var value: String?
    public var valueGlob: String?
    public var requiring: [String]

    public init(name: String, key: String, value: String? = nil, valueGlob: String? = nil, requiring: [String] = []) {
        self.name = name; self.key = key; self.value = value; self.valueGlob = valueGlob; self.requiring = requiring
    }
}

/// The kind of a store object in `snapshots/` the cache has loaded.
public enum SnapshotObjectKind: Int64, Sendable {
    /// One snapshot; its name is its id (format-spec §13).
    case single = 0
    /// A snapshot catalogue holding many (format-spec v2).
    case catalogue = 1
}

/// A store object in `snapshots/` the cache has loaded.
public struct LoadedSnapshotObject: Sendable, Equatable {
    public var name: String
    public var kind: SnapshotObjectKind
    /// Its size in the store, in bytes.
    public var size: Int64
    /// How many snapshots it holds (for this cache: forgotten ones are not counted).
    public var snapshots: Int
    /// Whether the cache holds every snapshot the object holds but forgotten
    /// ones: only such an object may be rewritten from the cache (merged, or
    /// rewritten without forgotten snapshots). An entry this Cairn cannot
    /// decode (a newer one's) makes it incomplete.
    public var complete: Bool

    public init(name: String, kind: SnapshotObjectKind, size: Int64, snapshots: Int, complete: Bool = true) {
        self.name = name; self.kind = kind; self.size = size; self.snapshots = snapshots; self.complete = complete
    }
}

// MARK: snapshots

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
    /// (Docs/performance.md, "Disaster open").
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
        """

    /// The tables of `snapshotSchema` with the column each must have: a cache
    /// of an older schema (5 named snapshots by id everywhere) loses them when
    /// opened, and `reset` reloads it from the store.
    static let snapshotTables: [(table: String, column: String)] = [
        ("snapshots", "sid"), ("snapshot_attributes", "sid"), ("snapshot_members", "sid"), ("snapshot_objects", "complete"),
    ]

    /// The statements that add snapshot rows, prepared once per transaction
    /// (a catalogue holds thousands of rows).
    private struct SnapshotInserter {
        let snapshot, existing, attribute, member: SQLiteStatement

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
        func add(_ r: SnapshotRow, in d: SQLiteDatabase) throws -> Int64 {
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
            }
            return sid
        }

        func addMember(object: String, sid: Int64) throws {
            member.reset()
            try member.bind(1, object).bind(2, sid).run()
        }
    }

    private static func delete(sid: Int64, in d: SQLiteDatabase) throws {
        try d.statement("DELETE FROM snapshots WHERE sid=?").bind(1, sid).run()
        try d.statement("DELETE FROM snapshot_attributes WHERE sid=?").bind(1, sid).run()
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
                let inserter = try SnapshotInserter(d)
                for r in ordered {
                    try inserter.addMember(object: object.name, sid: try inserter.add(r, in: d))
                }
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
                let held = try d.statement("SELECT EXISTS(SELECT 1 FROM snapshot_members WHERE sid=?), (SELECT id FROM snapshots WHERE sid=?)")
                for sid in candidates {
                    held.reset(); held.bind(1, sid).bind(2, sid)
                    _ = try held.step()
                    let stillHeld = held.int(0) != 0, id = held.isNull(1) ? nil : held.text(1)
                    held.reset()
                    if !stillHeld {
                        try Self.delete(sid: sid, in: d)
                        if let id { removed.append((id, sid)) }
                    }
                }
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
                for id in ids {
                    find.reset(); find.bind(1, id)
                    let sid: Int64? = try find.step() ? find.int(0) : nil
                    find.reset()
                    if let sid {
                        try Self.delete(sid: sid, in: d)
                        try d.statement("DELETE FROM snapshot_members WHERE sid=?").bind(1, sid).run()
                    }
                    // Its own object (a single snapshot) goes with it; a catalogue stays loaded.
                    try d.statement("DELETE FROM snapshot_objects WHERE name=? AND kind=?").bind(1, id).bind(2, SnapshotObjectKind.single.rawValue).run()
                }
            }
        }
    }

    /// The store objects of `snapshots/` this cache has loaded, smallest first.
    public func snapshotObjects() throws -> [LoadedSnapshotObject] {
        try withDatabase { d in
            let s = try d.statement("""
                SELECT o.name, o.kind, o.size, (SELECT count(*) FROM snapshot_members m WHERE m.object=o.name), o.complete
                FROM snapshot_objects o ORDER BY o.size, o.name
                """)
            var out: [LoadedSnapshotObject] = []
            while try s.step() {
                out.append(LoadedSnapshotObject(name: s.text(0), kind: SnapshotObjectKind(rawValue: s.int(1)) ?? .single,
                                                size: s.int(2), snapshots: Int(s.int(3)), complete: s.int(4) != 0))
            }
            return out
        }
    }

    /// Names of the loaded store objects of `snapshots/`.
    public func snapshotObjectNames() throws -> Set<String> {
        try withDatabase { d in
            let s = try d.statement("SELECT name FROM snapshot_objects")
            var out = Set<String>()
            while try s.step() { out.insert(s.text(0)) }
            return out
        }
    }

    /// The loaded objects that hold any of `ids`, with the ids each holds.
    public func snapshotObjects(holding ids: [String]) throws -> [String: [String]] {
        try withDatabase { d in
            var out: [String: [String]] = [:]
            let s = try d.statement("SELECT m.object FROM snapshots s JOIN snapshot_members m ON m.sid=s.sid WHERE s.id=?")
            for id in ids {
                s.reset(); s.bind(1, id)
                while try s.step() { out[s.text(0), default: []].append(id) }
            }
            s.reset()
            return out
        }
    }

    /// Ids of the snapshots one loaded object holds.
    public func snapshotIDs(inObject name: String) throws -> [String] {
        try withDatabase { d in
            let s = try d.statement("SELECT s.id FROM snapshot_members m JOIN snapshots s ON s.sid=m.sid WHERE m.object=? ORDER BY s.id").bind(1, name)
            var out: [String] = []
            while try s.step() { out.append(s.text(0)) }
            return out
        }
    }

    /// The cached snapshots one loaded object holds, by id.
    public func snapshotRows(inObject name: String) throws -> [SnapshotRow] {
        try snapshotRows(where: "WHERE sid IN (SELECT sid FROM snapshot_members WHERE object=?)", order: "id", bind: [name])
    }

    /// Every cached snapshot as (id, encoded plaintext), oldest first.
    public func snapshots() throws -> [(id: String, plaintext: [UInt8])] {
        try snapshotRows(where: "", order: "time, id").map { ($0.id, $0.plaintext) }
    }

    /// Cached snapshots as rows, oldest first: all, or those of one name.
    public func snapshotRows(name: String? = nil) throws -> [SnapshotRow] {
        guard let name else { return try snapshotRows(where: "", order: "time, id") }
        return try snapshotRows(where: "WHERE name=?", order: "time, id", bind: [name])
    }

    /// Cached snapshots of any name whose attribute `key` is `value`, oldest first (an indexed query).
    public func snapshotRows(attribute key: String, value: String) throws -> [SnapshotRow] {
        try snapshotRows(where: "WHERE sid IN (SELECT sid FROM snapshot_attributes WHERE key=? AND value=?)", order: "time, id", bind: [key, value])
    }

    /// The newest snapshot (by time, then id), of one name and source kind when given.
    public func latestSnapshot(name: String? = nil, sourceKind: String? = nil) throws -> SnapshotRow? {
        var conditions: [String] = [], values: [String] = []
        if let name { conditions.append("name=?"); values.append(name) }
        if let sourceKind { conditions.append("source_kind=?"); values.append(sourceKind) }
        let clause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try snapshotRows(where: clause, order: "time DESC, id DESC", limit: 1, bind: values).first
    }

    /// Snapshots whose id starts with `prefix` (lower-case hex), of one name when given; at most `limit`.
    public func snapshotRows(idPrefix prefix: String, name: String? = nil, limit: Int = 16) throws -> [SnapshotRow] {
        // A range on the primary key: ids are lower-case hex, all below '~'.
        if let name {
            return try snapshotRows(where: "WHERE id>=? AND id<? AND name=?", order: "id", limit: limit, bind: [prefix, prefix + "~", name])
        }
        return try snapshotRows(where: "WHERE id>=? AND id<?", order: "id", limit: limit, bind: [prefix, prefix + "~"])
    }

    /// One cached snapshot by its full id (an indexed lookup).
    public func snapshotRow(id: String) throws -> SnapshotRow? {
        try snapshotRows(where: "WHERE id=?", order: "id", limit: 1, bind: [id]).first
    }

    /// The cached plaintext of one snapshot, by id (an indexed lookup).
    public func snapshotPlaintext(id: String) throws -> [UInt8]? { try snapshotRow(id: id)?.plaintext }

    /// How many snapshots the cache holds.
    public func snapshotCount() throws -> Int {
        try withDatabase { d in
            let s = try d.statement("SELECT count(*) FROM snapshots")
            _ = try s.step()
            return Int(s.int(0))
        }
    }

    private func snapshotRows(where clause: String, order: String, limit: Int? = nil, bind values: [String] = []) throws -> [SnapshotRow] {
        try withDatabase { d in
            let s = try d.statement("SELECT id,name,time,host,source_kind,data FROM snapshots \(clause) ORDER BY \(order)"
                                    + (limit.map { " LIMIT \($0)" } ?? ""))
            for (i, v) in values.enumerated() { s.bind(Int32(i + 1), v) }
            var out: [SnapshotRow] = []
            while try s.step() { out.append(Self.row(s)) }
            return out
        }
    }

    private static func row(_ s: SQLiteStatement) -> SnapshotRow {
        SnapshotRow(id: s.text(0), name: s.text(1), timeNanos: s.int(2), host: s.text(3), sourceKind: s.text(4), plaintext: s.blob(5))
    }
}

// MARK: attributes

extension RepositoryIndex {
    /// The snapshots `query` selects, ordered by the attribute's value, then
    /// time and id; each with those of the attributes `fields` it has. One
    /// indexed range of `snapshot_attributes`; no snapshot is decoded.
    public func snapshots(_ query: AttributeQuery, fields: [String] = []) throws -> [AttributedSnapshot] {
        try attributed(query, fields: fields)
    }

    /// The newest snapshot (by time, then value, then id) `query` selects, with `fields`.
    ///
    /// Walks the snapshots of the name newest first through their (name, time) index and stops
    /// at the first time that has a match: ordering the attribute rows by time instead would
    /// sort every row of the name, i.e. a WAL archive's every file (`pg status` on 45,000
    /// segments), on each call.
    public func newestSnapshot(_ query: AttributeQuery, fields: [String] = []) throws -> AttributedSnapshot? {
        let newest: AttributedSnapshot? = try withDatabase { d in
            let (sql, values) = Self.newestSQL(query)
            let s = try d.statement(sql)
            for (i, v) in values.enumerated() { s.bind(Int32(i + 1), v) }
            defer { s.reset() }
            var best: AttributedSnapshot? = nil
            while try s.step() {
                let row = AttributedSnapshot(id: s.text(0), timeNanos: s.int(1), value: s.text(2))
                if let b = best {
                    guard row.timeNanos == b.timeNanos else { break }   // older rows cannot win
                    if (row.value, row.id) > (b.value, b.id) { best = row }
                } else {
                    best = row
                }
            }
            return best
        }
        guard var found = newest, !fields.isEmpty else { return newest }
        try withDatabase { d in
            let marks = Array(repeating: "?", count: fields.count).joined(separator: ",")
            let s = try d.statement("SELECT key, value FROM snapshot_attributes WHERE sid=(SELECT sid FROM snapshots WHERE id=?) AND key IN (\(marks))")
            for (i, v) in ([found.id] + fields).enumerated() { s.bind(Int32(i + 1), v) }
            defer { s.reset() }
            while try s.step() { found.attributes[s.text(0)] = s.text(1) }
        }
        return found
    }

    /// The query `newestSnapshot` runs: the snapshots' (name, time) index walked backwards as
    /// the outer loop (CROSS JOIN fixes the order), each snapshot's attributes looked up by id.
    static func newestSQL(_ query: AttributeQuery) -> (String, [String]) {
        let (clause, values) = condition(query)
        return ("SELECT s.id, a.time, a.value FROM snapshots s CROSS JOIN snapshot_attributes a ON a.sid=s.sid "
                + "WHERE s.name=? AND \(clause) ORDER BY s.time DESC", [query.name] + values)
    }

    /// SQLite's plan for `newestSnapshot(query)` (EXPLAIN QUERY PLAN, one step a line): what the
    /// tests check, so that a schema change cannot silently turn it into a sort of every row.
    package func newestSnapshotPlan(_ query: AttributeQuery) throws -> String {
        try withDatabase { d in
            let (sql, values) = Self.newestSQL(query)
            let s = try d.statement("EXPLAIN QUERY PLAN " + sql)
            for (i, v) in values.enumerated() { s.bind(Int32(i + 1), v) }
            defer { s.reset() }
            var lines: [String] = []
            while try s.step() { lines.append(s.text(3)) }
            return lines.joined(separator: "\n")
        }
    }

    /// How many snapshots `query` selects.
    public func snapshotCount(_ query: AttributeQuery) throws -> Int {
        try withDatabase { d in
            let (clause, values) = Self.condition(query)
            let s = try d.statement("SELECT count(*) FROM snapshot_attributes a WHERE \(clause)")
            for (i, v) in values.enumerated() { s.bind(Int32(i + 1), v) }
            _ = try s.step()
            let n = Int(s.int(0))
            s.reset()
            return n
        }
    }

    static func condition(_ q: AttributeQuery) -> (String, [String]) {
        var clause = "a.key=? AND a.name=?", values = [q.key, q.name]
        if let v = q.value { clause += " AND a.value=?"; values.append(v) }
        if let g = q.valueGlob { clause += " AND a.value GLOB ?"; values.append(g) }
        for r in q.requiring {
            clause += " AND EXISTS(SELECT 1 FROM snapshot_attributes r WHERE r.sid=a.sid AND r.key=?)"
            values.append(r)
        }
        return (clause, values)
    }

    /// The query `snapshots(_:fields:)` runs: the attribute rows `query` selects (one range of
    /// their primary key) with the snapshot's id from its row number; with `fields`, one row per
    /// (snapshot, field it has), in the selection's order.
    static func attributedSQL(_ query: AttributeQuery, fields: [String]) -> (String, [String]) {
        let (clause, values) = condition(query)
        let selected = "SELECT s.id AS id, a.time AS time, a.value AS value, a.sid AS sid FROM snapshot_attributes a "
            + "JOIN snapshots s ON s.sid=a.sid WHERE \(clause) ORDER BY a.value, a.time, s.id"
        guard !fields.isEmpty else { return (selected, values) }
        let marks = Array(repeating: "?", count: fields.count).joined(separator: ",")
        return ("SELECT a.id, a.time, a.value, b.key, b.value FROM (\(selected)) a "
                + "LEFT JOIN snapshot_attributes b ON b.sid=a.sid AND b.key IN (\(marks)) ORDER BY a.value, a.time, a.id", values + fields)
    }

    /// SQLite's plan for `snapshots(query, fields:)` (EXPLAIN QUERY PLAN, one step a line), for the tests.
    package func snapshotsPlan(_ query: AttributeQuery, fields: [String] = []) throws -> String {
        try withDatabase { d in
            let (sql, values) = Self.attributedSQL(query, fields: fields)
            let s = try d.statement("EXPLAIN QUERY PLAN " + sql)
            for (i, v) in values.enumerated() { s.bind(Int32(i + 1), v) }
            defer { s.reset() }
            var lines: [String] = []
            while try s.step() { lines.append(s.text(3)) }
            return lines.joined(separator: "\n")
        }
    }

    private func attributed(_ query: AttributeQuery, fields: [String]) throws -> [AttributedSnapshot] {
        try withDatabase { d in
            let (sql, values) = Self.attributedSQL(query, fields: fields)
            let s = try d.statement(sql)
            for (i, v) in values.enumerated() { s.bind(Int32(i + 1), v) }
            var out: [AttributedSnapshot] = []
            while try s.step() {
                let id = s.text(0)
                if out.last?.id != id { out.append(AttributedSnapshot(id: id, timeNanos: s.int(1), value: s.text(2))) }
                if !fields.isEmpty, !s.isNull(3) { out[out.count - 1].attributes[s.text(3)] = s.text(4) }
            }
            s.reset()
            return out
        }
    }
}

import CSQLite3
private func sqlite3LastRowID(_ d: SQLiteDatabase) -> Int64 { sqlite3_last_insert_rowid(d.handle) }
private func sqlite3Changes(_ d: SQLiteDatabase) -> Int32 { sqlite3_changes(d.handle) }

/// One cached snapshot: its id, the columns commands select by (indexed, so
/// that `snapshots --name X`, `latest` and the WAL archive never decode every
/// snapshot), and its encoded plaintext.
public struct SnapshotRow: Sendable, Equatable {
    public var id: String
    public var name: String
    public var timeNanos: Int64
    public var host: String
    /// `tree` or `stream` (format-spec §13).
    public var sourceKind: String
    /// What the snapshot is to the operator: `extra["pg-kind"]` (`base`, `dump`), `pg-wal` for an
    /// archived WAL file, else empty.
    public var kind: String
    /// An archived WAL file: the name PostgreSQL gave, its SHA-256, size and system identifier.
    public var walFile: String?
    public var walSHA256: String?
    public var walSize: Int64?
    public var systemID: String?
    public var plaintext: [UInt8]

    public init(id: String, name: String, timeNanos: Int64, host: String = "", sourceKind: String = "", kind: String = "",
                walFile: String? = nil, walSHA256: String? = nil, walSize: Int64? = nil, systemID: String? = nil, plaintext: [UInt8]) {
        self.id = id; self.name = name; self.timeNanos = timeNanos; self.host = host; self.sourceKind = sourceKind; self.kind = kind
        self.walFile = walFile; self.walSHA256 = walSHA256; self.walSize = walSize; self.systemID = systemID; self.plaintext = plaintext
    }
}

/// One archived PostgreSQL WAL file as the cache catalogues it: which
/// snapshot holds it, its name and content hash.
public struct WALCatalogRow: Sendable, Hashable {
    public var snapshotID: String
    /// The WAL file name PostgreSQL gave (`000000010000000000000003`, `00000002.history`, ...).
    public var file: String
    public var sha256: String
    public var size: Int64
    /// When it was archived (the snapshot time), nanoseconds since the epoch.
    public var timeNanos: Int64
    public var systemID: String

    public init(snapshotID: String, file: String, sha256: String, size: Int64, timeNanos: Int64, systemID: String) {
        self.snapshotID = snapshotID; self.file = file; self.sha256 = sha256; self.size = size
        self.timeNanos = timeNanos; self.systemID = systemID
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
    /// object that holds it is left.
    static let snapshotSchema = """
        CREATE TABLE IF NOT EXISTS snapshots(id TEXT PRIMARY KEY, name TEXT NOT NULL, time INTEGER NOT NULL,
            host TEXT NOT NULL DEFAULT '', source_kind TEXT NOT NULL DEFAULT '', kind TEXT NOT NULL DEFAULT '',
            wal_file TEXT, wal_sha256 TEXT, wal_size INTEGER, system_id TEXT, data BLOB NOT NULL);
        CREATE INDEX IF NOT EXISTS snapshots_name_time ON snapshots(name, time);
        CREATE INDEX IF NOT EXISTS snapshots_kind_time ON snapshots(kind, time);
        CREATE INDEX IF NOT EXISTS snapshots_time ON snapshots(time);
        CREATE INDEX IF NOT EXISTS snapshots_wal ON snapshots(name, wal_file) WHERE wal_file IS NOT NULL;
        CREATE TABLE IF NOT EXISTS snapshot_objects(name TEXT PRIMARY KEY, kind INTEGER NOT NULL, size INTEGER NOT NULL,
            complete INTEGER NOT NULL DEFAULT 1) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS snapshot_members(object TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY(object, id)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS snapshot_members_id ON snapshot_members(id);
        """

    private static let insertSnapshot = """
        INSERT OR REPLACE INTO snapshots(id,name,time,host,source_kind,kind,wal_file,wal_sha256,wal_size,system_id,data)
        VALUES(?,?,?,?,?,?,?,?,?,?,?)
        """

    private static func insert(_ r: SnapshotRow, into d: SQLiteDatabase) throws {
        let s = try d.statement(insertSnapshot).bind(1, r.id).bind(2, r.name).bind(3, r.timeNanos).bind(4, r.host)
            .bind(5, r.sourceKind).bind(6, r.kind).bind(11, r.plaintext)
        if let v = r.walFile { s.bind(7, v) }
        if let v = r.walSHA256 { s.bind(8, v) }
        if let v = r.walSize { s.bind(9, v) }
        if let v = r.systemID { s.bind(10, v) }
        try s.run()
    }

    /// Records a store object of `snapshots/` and the snapshots it holds, in one transaction.
    public func addSnapshotObject(_ object: LoadedSnapshotObject, rows: [SnapshotRow]) throws {
        try withDatabase { d in
            try d.transaction {
                try d.statement("INSERT OR REPLACE INTO snapshot_objects(name,kind,size,complete) VALUES(?,?,?,?)")
                    .bind(1, object.name).bind(2, object.kind.rawValue).bind(3, object.size).bind(4, object.complete ? 1 : 0).run()
                for r in rows {
                    try Self.insert(r, into: d)
                    try d.statement("INSERT OR IGNORE INTO snapshot_members(object,id) VALUES(?,?)").bind(1, object.name).bind(2, r.id).run()
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
                var candidates = Set<String>()
                let members = try d.statement("SELECT id FROM snapshot_members WHERE object=?")
                for n in names {
                    members.reset(); members.bind(1, n)
                    while try members.step() { candidates.insert(members.text(0)) }
                    members.reset()
                    try d.statement("DELETE FROM snapshot_members WHERE object=?").bind(1, n).run()
                    try d.statement("DELETE FROM snapshot_objects WHERE name=?").bind(1, n).run()
                }
                var removed: [String] = []
                let held = try d.statement("SELECT EXISTS(SELECT 1 FROM snapshot_members WHERE id=?)")
                for id in candidates.sorted() {
                    held.reset(); held.bind(1, id)
                    _ = try held.step()
                    let stillHeld = held.int(0) != 0
                    held.reset()
                    if !stillHeld {
                        try d.statement("DELETE FROM snapshots WHERE id=?").bind(1, id).run()
                        removed.append(id)
                    }
                }
                return removed
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
                for id in ids {
                    try d.statement("DELETE FROM snapshots WHERE id=?").bind(1, id).run()
                    try d.statement("DELETE FROM snapshot_members WHERE id=?").bind(1, id).run()
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
            let s = try d.statement("SELECT object FROM snapshot_members WHERE id=?")
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
            let s = try d.statement("SELECT id FROM snapshot_members WHERE object=? ORDER BY id").bind(1, name)
            var out: [String] = []
            while try s.step() { out.append(s.text(0)) }
            return out
        }
    }

    /// The cached snapshots one loaded object holds, by id.
    public func snapshotRows(inObject name: String) throws -> [SnapshotRow] {
        try snapshotRows(where: "WHERE id IN (SELECT id FROM snapshot_members WHERE object=?)", order: "id", bind: [name])
    }

    /// Every cached snapshot as (id, encoded plaintext), oldest first.
    public func snapshots() throws -> [(id: String, plaintext: [UInt8])] {
        try snapshotRows(where: "", order: "time, id").map { ($0.id, $0.plaintext) }
    }

    /// Cached snapshots as rows, oldest first: all, or those of one name or one kind.
    public func snapshotRows(name: String? = nil, kind: String? = nil) throws -> [SnapshotRow] {
        switch (name, kind) {
        case (nil, nil): return try snapshotRows(where: "", order: "time, id")
        case (let n?, nil): return try snapshotRows(where: "WHERE name=?", order: "time, id", bind: [n])
        case (nil, let k?): return try snapshotRows(where: "WHERE kind=?", order: "time, id", bind: [k])
        case (let n?, let k?): return try snapshotRows(where: "WHERE name=? AND kind=?", order: "time, id", bind: [n, k])
        }
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
            let s = try d.statement("SELECT id,name,time,host,source_kind,kind,wal_file,wal_sha256,wal_size,system_id,data FROM snapshots \(clause) ORDER BY \(order)"
                                    + (limit.map { " LIMIT \($0)" } ?? ""))
            for (i, v) in values.enumerated() { s.bind(Int32(i + 1), v) }
            var out: [SnapshotRow] = []
            while try s.step() { out.append(Self.row(s)) }
            return out
        }
    }

    private static func row(_ s: SQLiteStatement) -> SnapshotRow {
        SnapshotRow(id: s.text(0), name: s.text(1), timeNanos: s.int(2), host: s.text(3), sourceKind: s.text(4), kind: s.text(5),
                    walFile: s.isNull(6) ? nil : s.text(6), walSHA256: s.isNull(7) ? nil : s.text(7),
                    walSize: s.isNull(8) ? nil : s.int(8), systemID: s.isNull(9) ? nil : s.text(9), plaintext: s.blob(10))
    }
}

// MARK: the PostgreSQL WAL archive

extension RepositoryIndex {
    private static let walColumns = "id, wal_file, coalesce(wal_sha256,''), coalesce(wal_size,0), time, coalesce(system_id,'')"

    private static func walRow(_ s: SQLiteStatement) -> WALCatalogRow {
        WALCatalogRow(snapshotID: s.text(0), file: s.text(1), sha256: s.text(2), size: s.int(3), timeNanos: s.int(4), systemID: s.text(5))
    }

    /// The archived WAL files of snapshot name `name`, ordered by file name
    /// then archive time; with `file`, only the copies of that file (an indexed lookup).
    public func walCatalog(name: String, file: String? = nil) throws -> [WALCatalogRow] {
        try withDatabase { d in
            let s = try d.statement("SELECT \(Self.walColumns) FROM snapshots WHERE name=? AND wal_file IS NOT NULL"
                                    + (file == nil ? "" : " AND wal_file=?") + " ORDER BY wal_file, time").bind(1, name)
            if let file { s.bind(2, file) }
            var out: [WALCatalogRow] = []
            while try s.step() { out.append(Self.walRow(s)) }
            return out
        }
    }

    /// How many WAL files name `name` archives, and the newest full segment by archive time.
    public func walSummary(name: String) throws -> (files: Int, newestSegment: WALCatalogRow?) {
        try withDatabase { d in
            let c = try d.statement("SELECT count(*) FROM snapshots WHERE name=? AND wal_file IS NOT NULL").bind(1, name)
            _ = try c.step()
            let files = Int(c.int(0))
            c.reset()
            // A segment's name is 24 hexadecimal digits; history, backup and partial files have longer or shorter names.
            let n = try d.statement("SELECT \(Self.walColumns) FROM snapshots WHERE name=? AND wal_file IS NOT NULL AND length(wal_file)=24 ORDER BY time DESC, wal_file DESC LIMIT 1").bind(1, name)
            let newest = try n.step() ? Self.walRow(n) : nil
            n.reset()
            return (files, newest)
        }
    }
}

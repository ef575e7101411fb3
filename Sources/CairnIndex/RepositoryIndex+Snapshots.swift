// MARK: snapshot reads

extension RepositoryIndex {
    /// The store objects of `snapshots/` this cache has loaded, smallest first.
    /// - Parameter counted: with each object's snapshot count; without (`snapshots` is 0), no
    ///   member row is read: counting them all reads every snapshot's membership (45,000 rows
    ///   at 45,000 WAL segments), a cost the metadata merge after every commit must not have.
    public func snapshotObjects(counted: Bool = true) throws -> [LoadedSnapshotObject] {
        try withDatabase { d in
            let count = counted ? "(SELECT count(*) FROM snapshot_members m WHERE m.object=o.name)" : "0"
            let s = try d.statement("""
                SELECT o.name, o.kind, o.size, \(count), o.complete
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

    /// How many snapshots the cache lists in loaded object `name` (one range of its member rows).
    public func snapshotCount(inObject name: String) throws -> Int {
        try withDatabase { d in
            let s = try d.statement("SELECT count(*) FROM snapshot_members WHERE object=?").bind(1, name)
            _ = try s.step()
            return Int(s.int(0))
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

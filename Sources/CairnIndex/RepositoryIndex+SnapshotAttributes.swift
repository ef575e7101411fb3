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
        let (sql, values) = Self.newestSQL(query)
        return try queryPlan(sql, values)
    }

    /// EXPLAIN QUERY PLAN of `sql` with `values` bound, one step a line.
    private func queryPlan(_ sql: String, _ values: [String]) throws -> String {
        try withDatabase { d in
            let s = try d.statement("EXPLAIN QUERY PLAN " + sql)
            for (i, v) in values.enumerated() { s.bind(Int32(i + 1), v) }
            defer { s.reset() }
            var lines: [String] = []
            while try s.step() { lines.append(s.text(3)) }
            return lines.joined(separator: "\n")
        }
    }

    /// How many snapshots `query` selects. A key and name alone is one row of `attribute_counts`;
    /// anything more narrow reads the rows it selects.
    public func snapshotCount(_ query: AttributeQuery) throws -> Int {
        try withDatabase { d in
            if query.value == nil, query.valueGlob == nil, query.requiring.isEmpty {
                let c = try d.statement("SELECT n FROM attribute_counts WHERE key=? AND name=?").bind(1, query.key).bind(2, query.name)
                defer { c.reset() }
                return try c.step() ? Int(c.int(0)) : 0
            }
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
        let (sql, values) = Self.attributedSQL(query, fields: fields)
        return try queryPlan(sql, values)
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

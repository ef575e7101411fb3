import CairnFormat
import Foundation
import XCTest
@testable import CairnIndex

/// How the cache lays out the snapshots of catalogues (issue 16.2, disaster open): rows numbered in
/// time order whatever order a catalogue lists them in (by id), attributes and memberships keyed by
/// that number, every lookup through an index, and nothing left behind when an object goes.
final class SnapshotColdLoadTests: XCTestCase {
    private var path = ""
    override func setUp() { path = NSTemporaryDirectory() + "idx-\(UUID().uuidString).sqlite" }
    override func tearDown() { RepositoryIndex.destroy(path: path) }

    /// `count` WAL-like rows from minute `first` on, listed by id as a catalogue lists them.
    private func walRows(_ first: Int, _ count: Int) -> [SnapshotRow] {
        (first..<first + count).map { n in
            let file = String(format: "00000001%08X%08X", n / 256, n % 256)
            let id = (1...4).map { String(format: "%016llx", Self.mix(UInt64(n) &* 4 &+ UInt64($0))) }.joined()
            return SnapshotRow(id: id, name: "pg-wal", timeNanos: Int64(n) * 60_000_000_000, host: "db1", sourceKind: "stream",
                               attributes: ["pg-wal-file": file, "pg-wal-sha256": String(id.reversed()), "pg-wal-size": "16777216",
                                            "pg-wal-kind": "segment", "pg-system-id": "7312", "pg-wal-segment-size": "16777216"],
                               plaintext: Array(file.utf8))
        }.sorted { $0.id < $1.id }
    }

    /// SplitMix64's finaliser: ids that look random, deterministically.
    private static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    private func count(_ index: RepositoryIndex, _ sql: String) throws -> Int {
        try index.withDatabase { d in
            let s = try d.statement(sql)
            defer { s.reset() }
            _ = try s.step()
            return Int(s.int(0))
        }
    }

    func testCatalogueRowsAreNumberedInTimeOrderAndFoundThroughIndexes() throws {
        let index = try RepositoryIndex(path: path)
        let catalogues = [walRows(0, 1_500), walRows(1_500, 1_500), walRows(3_000, 1_000)]
        for (i, rows) in catalogues.enumerated() {
            try index.addSnapshotObject(LoadedSnapshotObject(name: "cat\(i)", kind: .catalogue, size: 1, snapshots: rows.count), rows: rows)
        }
        // The same snapshots in a second object (a merge stopped before it deleted its inputs): no new rows.
        try index.addSnapshotObject(LoadedSnapshotObject(name: "dup", kind: .catalogue, size: 1, snapshots: 200), rows: Array(catalogues[2].prefix(200)))
        XCTAssertEqual(try index.snapshotCount(), 4_000)
        XCTAssertEqual(try count(index, "SELECT count(*) FROM snapshot_attributes"), 6 * 4_000)
        XCTAssertEqual(try count(index, "SELECT count(*) FROM snapshot_members"), 4_200)
        // Row numbers follow time, so the time, member and attribute indexes were filled in order.
        XCTAssertEqual(try count(index, """
            SELECT count(*) FROM snapshots a JOIN snapshots b ON b.sid=a.sid+1 WHERE b.time<a.time
            """), 0, "a later row number never holds an earlier snapshot")

        let all = AttributeQuery(name: "pg-wal", key: "pg-wal-file", requiring: ["pg-wal-sha256"])
        let listed = try index.snapshots(all, fields: ["pg-wal-sha256", "pg-wal-size"])
        let expected = catalogues.joined().sorted { $0.timeNanos < $1.timeNanos }
        XCTAssertEqual(listed.map(\.id), expected.map(\.id))
        XCTAssertEqual(listed.map(\.value), expected.map { $0.attributes["pg-wal-file"]! })
        XCTAssertEqual(listed.map { $0.attributes["pg-wal-sha256"] }, expected.map { $0.attributes["pg-wal-sha256"] })
        let one = expected[2_345]
        XCTAssertEqual(try index.snapshots(AttributeQuery(name: "pg-wal", key: "pg-wal-file", value: one.attributes["pg-wal-file"],
                                                          requiring: ["pg-wal-sha256"]), fields: ["pg-wal-size"]),
                       [AttributedSnapshot(id: one.id, timeNanos: one.timeNanos, value: one.attributes["pg-wal-file"]!,
                                           attributes: ["pg-wal-size": "16777216"])])
        XCTAssertEqual(try index.newestSnapshot(all)?.id, expected.last?.id)
        XCTAssertEqual(try index.snapshotCount(all), 4_000)
        XCTAssertEqual(Set(try index.snapshotIDs(inObject: "cat1")), Set(catalogues[1].map(\.id)))
        XCTAssertEqual(try index.snapshotObjects(holding: [one.id]), ["cat1": [one.id]])

        // wal-fetch's lookup and PITR's listing: one range of the attributes' key, the id by row number.
        for plan in [try index.snapshotsPlan(AttributeQuery(name: "pg-wal", key: "pg-wal-file", value: "x", requiring: ["pg-wal-sha256"]),
                                             fields: ["pg-wal-sha256", "pg-wal-size"]),
                     try index.snapshotsPlan(all, fields: ["pg-wal-sha256"])] {
            XCTAssertTrue(plan.contains("SEARCH a USING PRIMARY KEY (key=? AND name=?"), plan)
            XCTAssertTrue(plan.contains("SEARCH s USING INTEGER PRIMARY KEY (rowid=?)"), plan)
            XCTAssertTrue(plan.contains("snapshot_attributes_sid"), plan)
            XCTAssertFalse(plan.contains("SCAN"), "no table is scanned: \(plan)")
        }

        // A catalogue merge re-adds rows read back from the cache (without attributes): same rows, same attributes.
        let readBack = try index.snapshotRows(inObject: "cat0") + index.snapshotRows(inObject: "cat1")
        XCTAssertTrue(readBack.allSatisfy { $0.attributes.isEmpty })
        let sidsBefore = try count(index, "SELECT sum(sid) FROM snapshots")
        try index.addSnapshotObject(LoadedSnapshotObject(name: "merged", kind: .catalogue, size: 2, snapshots: readBack.count), rows: readBack)
        XCTAssertEqual(try index.removeSnapshotObjects(["cat0", "cat1"]), [])
        XCTAssertEqual(try count(index, "SELECT sum(sid) FROM snapshots"), sidsBefore, "row numbers kept")
        XCTAssertEqual(try index.snapshots(all, fields: ["pg-wal-sha256", "pg-wal-size"]), listed)

        // Objects gone: only what no other object holds goes, with its attributes and memberships.
        let removed = try index.removeSnapshotObjects(["cat2"])
        XCTAssertEqual(removed, catalogues[2].dropFirst(200).map(\.id).sorted())
        try index.removeSnapshots(ids: [one.id])
        XCTAssertEqual(try index.snapshotCount(), 4_000 - 800 - 1)
        XCTAssertEqual(try count(index, "SELECT count(*) FROM snapshot_attributes"), 6 * (4_000 - 800 - 1))
        XCTAssertEqual(try count(index, "SELECT count(*) FROM snapshot_attributes WHERE sid NOT IN (SELECT sid FROM snapshots)"), 0)
        XCTAssertEqual(try count(index, "SELECT count(*) FROM snapshot_members WHERE sid NOT IN (SELECT sid FROM snapshots)"), 0)
        XCTAssertEqual(try index.snapshotObjects(holding: [one.id]), [:])
    }

    /// (key, name) pairs whose `attribute_counts` row differs from the rows `snapshot_attributes` holds.
    private func miscounted(_ index: RepositoryIndex) throws -> Int {
        try count(index, """
            SELECT count(*) FROM (SELECT key, name, count(*) AS c FROM snapshot_attributes GROUP BY key, name) x
            FULL OUTER JOIN attribute_counts a USING(key, name) WHERE coalesce(x.c, 0) <> coalesce(a.n, 0)
            """)
    }

    /// `pg status` counts an archive's files from `attribute_counts` (one row, not one per file): every
    /// write of attributes keeps it exact, and a schema-6 cache is counted once when opened, in place.
    func testAttributeCountsFollowEveryWriteAndASchemaSixCacheIsCountedInPlace() throws {
        let index = try RepositoryIndex(path: path)
        let files = AttributeQuery(name: "pg-wal", key: "pg-wal-file")
        let catalogues = [walRows(0, 700), walRows(700, 500)]
        for (i, rows) in catalogues.enumerated() {
            try index.addSnapshotObject(LoadedSnapshotObject(name: "cat\(i)", kind: .catalogue, size: 1, snapshots: rows.count), rows: rows)
        }
        try index.addSnapshotObject(LoadedSnapshotObject(name: "dup", kind: .catalogue, size: 1, snapshots: 100), rows: Array(catalogues[1].prefix(100)))
        XCTAssertEqual(try index.snapshotCount(files), 1_200)
        XCTAssertEqual(try miscounted(index), 0)
        // A merge re-adds rows read back without attributes; the inputs go.
        let readBack = try index.snapshotRows(inObject: "cat0")
        try index.addSnapshotObject(LoadedSnapshotObject(name: "merged", kind: .catalogue, size: 2, snapshots: readBack.count), rows: readBack)
        XCTAssertEqual(try index.removeSnapshotObjects(["cat0"]), [])
        XCTAssertEqual(try index.snapshotCount(files), 1_200)
        // Objects gone and snapshots forgotten: only the rows that go are counted off.
        XCTAssertEqual(try index.removeSnapshotObjects(["cat1"]).count, 400)
        try index.removeSnapshots(ids: [catalogues[0][3].id, catalogues[1][5].id, "no-such-id"])
        XCTAssertEqual(try index.snapshotCount(files), 1_200 - 400 - 2)
        XCTAssertEqual(try index.snapshotCount(AttributeQuery(name: "pg-wal", key: "pg-wal-file", valueGlob: "*")), 1_200 - 400 - 2)
        XCTAssertEqual(try index.snapshotCount(AttributeQuery(name: "other", key: "pg-wal-file")), 0)
        XCTAssertEqual(try miscounted(index), 0)

        // A schema-6 cache (no counts kept) is counted when opened, its rows kept.
        try index.withDatabase { try $0.execute("DELETE FROM attribute_counts") }
        try index.setMeta("schema", "6")
        XCTAssertGreaterThan(try miscounted(index), 0)
        XCTAssertFalse(try index.resetUnlessSchema("7"), "upgraded in place, not emptied")
        XCTAssertEqual(try index.meta("schema"), "7")
        XCTAssertEqual(try miscounted(index), 0)
        XCTAssertEqual(try index.snapshotCount(files), 1_200 - 400 - 2)
        try index.reset()
        XCTAssertEqual(try count(index, "SELECT count(*) FROM attribute_counts"), 0)
        XCTAssertEqual(try index.snapshotCount(files), 0)
    }

    /// A cache of schema 5 (snapshots named by id in every table) loses its snapshot tables when
    /// opened, so that the reload from the store (`Repository.open` on a schema change) fills tables
    /// of this schema.
    func testSnapshotTablesOfSchemaFiveAreReplaced() throws {
        let old = try SQLiteDatabase(path: path)
        try old.execute("""
            CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
            INSERT INTO meta VALUES('schema', '5');
            CREATE TABLE snapshots(id TEXT PRIMARY KEY, name TEXT NOT NULL, time INTEGER NOT NULL,
                host TEXT NOT NULL DEFAULT '', source_kind TEXT NOT NULL DEFAULT '', data BLOB NOT NULL);
            CREATE TABLE snapshot_attributes(key TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,
                time INTEGER NOT NULL, id TEXT NOT NULL, PRIMARY KEY(key, name, value, time, id)) WITHOUT ROWID;
            CREATE INDEX snapshot_attributes_id ON snapshot_attributes(id, key, value);
            CREATE TABLE snapshot_objects(name TEXT PRIMARY KEY, kind INTEGER NOT NULL, size INTEGER NOT NULL,
                complete INTEGER NOT NULL DEFAULT 1) WITHOUT ROWID;
            CREATE TABLE snapshot_members(object TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY(object, id)) WITHOUT ROWID;
            INSERT INTO snapshots VALUES('s1', 'w', 1, '', '', x'01');
            INSERT INTO snapshot_attributes VALUES('file', 'w', 'A', 1, 's1');
            INSERT INTO snapshot_members VALUES('o', 's1');
            """)
        let index = try RepositoryIndex(path: path)
        XCTAssertEqual(try index.meta("schema"), "5", "the schema number is Repository.open's to change (after its reset)")
        for table in ["snapshots", "snapshot_attributes", "snapshot_members"] {
            XCTAssertEqual(try count(index, "SELECT count(*) FROM pragma_table_info('\(table)') WHERE name='sid'"), 1, table)
        }
        XCTAssertEqual(try index.snapshotCount(), 0)
        try index.addSnapshotObject(LoadedSnapshotObject(name: "o", kind: .single, size: 1, snapshots: 1),
                                    rows: [SnapshotRow(id: "s1", name: "w", timeNanos: 1, attributes: ["file": "A"], plaintext: [1])])
        XCTAssertEqual(try index.snapshots(AttributeQuery(name: "w", key: "file")).map(\.id), ["s1"])
        _ = old
    }
}

import CairnEngine
import CairnIndex
import CairnRepository
import CairnStorage
import CairnTestSupport
import XCTest
@testable import CairnPostgres

/// The WAL catalogue lives in the cache's generic snapshot attributes (issue 19): a cache of the
/// schema before (version 4, PostgreSQL's WAL columns in its snapshot table) is rebuilt from the
/// store when opened, and every WAL lookup (`pg status`'s summary, wal-fetch, PITR's catalogue)
/// answers as before.
final class WALCatalogueCacheTests: XCTestCase {
    /// The snapshot table of cache schema 4, filled from the attributes of this schema's rows.
    private static let downgradeToSchema4 = """
        CREATE TABLE snapshots_v4(id TEXT PRIMARY KEY, name TEXT NOT NULL, time INTEGER NOT NULL,
            host TEXT NOT NULL DEFAULT '', source_kind TEXT NOT NULL DEFAULT '', kind TEXT NOT NULL DEFAULT '',
            wal_file TEXT, wal_sha256 TEXT, wal_size INTEGER, system_id TEXT, data BLOB NOT NULL);
        INSERT INTO snapshots_v4 SELECT s.id, s.name, s.time, s.host, s.source_kind, 'pg-wal',
            (SELECT value FROM snapshot_attributes a WHERE a.sid=s.sid AND a.key='pg-wal-file'),
            (SELECT value FROM snapshot_attributes a WHERE a.sid=s.sid AND a.key='pg-wal-sha256'),
            (SELECT value FROM snapshot_attributes a WHERE a.sid=s.sid AND a.key='pg-wal-size'),
            (SELECT value FROM snapshot_attributes a WHERE a.sid=s.sid AND a.key='pg-system-id'), s.data FROM snapshots s;
        DROP TABLE snapshots; DROP TABLE snapshot_attributes;
        ALTER TABLE snapshots_v4 RENAME TO snapshots;
        CREATE INDEX snapshots_name_time ON snapshots(name, time);
        CREATE INDEX snapshots_kind_time ON snapshots(kind, time);
        CREATE INDEX snapshots_time ON snapshots(time);
        CREATE INDEX snapshots_wal ON snapshots(name, wal_file) WHERE wal_file IS NOT NULL;
        UPDATE meta SET value='4' WHERE key='schema';
        """

    func testACacheOfSchemaFourIsRebuiltAndWALLookupsStillAnswer() async throws {
        let sqlite = try RequiredProgram.require("/usr/bin/sqlite3", "sqlite3 (to write a cache of the old schema)")
        let dir = try makeTempDir("walcache")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = MemoryStore()
        var options = Repository.CreateOptions()
        options.scrypt = .init(logN: 10, r: 8, p: 1)
        let cacheBase = dir.path + "/cache"
        let repo = try await Repository.create(store: store, passphrase: Array("pw".utf8), cacheBase: cacheBase, options: options)
        let archive = WALArchive(repo: repo, name: "pg-wal")
        let files = ["000000010000000000000001", "000000010000000000000002", "00000002.history", "000000020000000000000003"]
        var contents: [String: [UInt8]] = [:]
        for (i, name) in files.enumerated() {
            let bytes = RandomBytes.make(name.hasSuffix(".history") ? 60 : 100_000 + i, seed: UInt64(i + 1))
            contents[name] = bytes
            let path = dir.path + "/" + name
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
            guard case .stored = try await archive.push(path: path, fileName: name) else { return XCTFail("\(name) not stored") }
        }
        let entries = try archive.entries()
        XCTAssertEqual(entries.map(\.file), files.sorted())
        XCTAssertEqual(entries.first { $0.file == "000000010000000000000002" }?.size, 100_001)
        let summary = try archive.summary()
        XCTAssertEqual(summary.files, 4)
        XCTAssertEqual(summary.newestSegment?.file, "000000020000000000000003")
        // A store's repository id names the cache directory; the one sqlite file in it is the cache.
        let cacheDirs = try FileManager.default.contentsOfDirectory(atPath: cacheBase)
        let database = try XCTUnwrap(cacheDirs.map { cacheBase + "/" + $0 + "/index.sqlite" }.first { FileManager.default.fileExists(atPath: $0) })

        // The cache becomes one of schema 4: the rows are there, but not where this Cairn looks.
        let sql = dir.path + "/downgrade.sql"
        try Self.downgradeToSchema4.write(toFile: sql, atomically: true, encoding: .utf8)
        let downgrade = try shell("'\(sqlite)' '\(database)' < '\(sql)'")
        XCTAssertEqual(downgrade.status, 0, downgrade.out)
        let columns = try shell("'\(sqlite)' '\(database)' 'SELECT name FROM pragma_table_info(\"snapshots\")'")
        XCTAssertTrue(columns.out.contains("wal_file"), columns.out)

        // Another process opens it: rebuilt from the store, the same answers.
        let reopened = try await Repository.open(store: store, passphrase: Array("pw".utf8), cacheBase: cacheBase)
        let again = WALArchive(repo: reopened, name: "pg-wal")
        XCTAssertEqual(try again.entries(), entries)
        let summaryAgain = try again.summary()
        XCTAssertEqual(summaryAgain.files, 4)
        XCTAssertEqual(summaryAgain.newestSegment, summary.newestSegment)
        XCTAssertEqual(try again.lookup("00000002.history").map(\.sha256), entries.filter { $0.file == "00000002.history" }.map(\.sha256))
        XCTAssertEqual(try again.lookup("000000010000000000000009"), [])
        for name in files {
            let out = dir.path + "/fetched-" + name
            let found = try await again.fetch(name, to: out)
            XCTAssertTrue(found, name)
            XCTAssertEqual(FileManager.default.contents(atPath: out), Data(contents[name] ?? []), name)
        }
        let fetchedAbsent = try await again.fetch("000000020000000000000004", to: dir.path + "/absent")
        XCTAssertFalse(fetchedAbsent)
        let schema = try shell("'\(sqlite)' '\(database)' \"SELECT value FROM meta WHERE key='schema'\"")
        XCTAssertEqual(schema.out.trimmingCharacters(in: .whitespacesAndNewlines), RepositoryIndex.schemaVersion)
        let newColumns = try shell("'\(sqlite)' '\(database)' 'SELECT name FROM pragma_table_info(\"snapshots\")'")
        XCTAssertFalse(newColumns.out.contains("wal_file"), newColumns.out)
    }
}

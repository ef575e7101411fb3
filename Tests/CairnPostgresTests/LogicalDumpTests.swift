import CairnPostgres
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `cairn pg dump` / `cairn pg restore-dump` against a real server, compared table by table through libpq.
final class LogicalDumpTests: XCTestCase {
    private func fingerprint(_ conn: PGConnection, _ table: String) throws -> String {
        try conn.value("SELECT count(*) || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM \(table) x")
    }

    func testDumpAndRestoreDumpRoundTripTableByTable() throws {
        let sandbox = try Sandbox()
        let cluster = try PostgresCluster(sandbox: sandbox, archiveCommand: "/bin/true")
        defer { cluster.stop() }
        let admin = try cluster.connect()
        try admin.query("CREATE DATABASE shop")
        let shop = try cluster.connect("shop")
        try shop.query("CREATE TABLE customers(id int PRIMARY KEY, name text, joined date, meta jsonb)")
        try shop.query("INSERT INTO customers SELECT g, 'customer ' || g, date '2020-01-01' + g, jsonb_build_object('n', g) FROM generate_series(1, 3000) g")
        try shop.query("CREATE TABLE orders(id bigserial PRIMARY KEY, customer int REFERENCES customers, amount numeric(12,2), note text, blob bytea)")
        try shop.query("INSERT INTO orders(customer, amount, note, blob) SELECT 1 + g % 3000, g * 1.25, repeat('ü', g % 7), decode(md5(g::text), 'hex') FROM generate_series(1, 20000) g")
        try shop.query("CREATE TABLE empty_table(x int)")
        try shop.query("CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount > 100")

        let dump = try sandbox.cairnRun(["pg", "dump", "--name", "shop-dump", "--dbname", "host=\(cluster.dir) port=\(cluster.port) dbname=shop user=postgres", "--json"])
        try dump.check("pg dump")
        let d = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(dump.out.utf8)) as? [String: Any])
        XCTAssertEqual(d["database"] as? String, "shop")
        XCTAssertTrue((d["server_version"] as? String)?.hasPrefix("1") == true)

        try admin.query("CREATE DATABASE shop_restored")
        let restore = try sandbox.cairnRun(["pg", "restore-dump", "latest", "--name", "shop-dump", "--dbname", "host=\(cluster.dir) port=\(cluster.port) dbname=shop_restored user=postgres"])
        try restore.check("pg restore-dump")
        let restored = try cluster.connect("shop_restored")
        for table in ["customers", "orders", "empty_table", "big_orders"] {
            XCTAssertEqual(try fingerprint(restored, table), try fingerprint(shop, table), table)
        }
        XCTAssertEqual(try restored.value("SELECT count(*) FROM pg_constraint WHERE contype = 'f'"), "1")

        // --create over a database that exists: the message gives pg_restore's cause, not its last line.
        let again = try sandbox.cairnRun(["pg", "restore-dump", "latest", "--name", "shop-dump", "--create", "--dbname", "host=\(cluster.dir) port=\(cluster.port) dbname=postgres user=postgres"])
        XCTAssertEqual(again.status, 1, again.summary)
        XCTAssertTrue(again.err.contains("database \"shop\" already exists"), again.summary)
        XCTAssertEqual(again.err.split(separator: "\n").count, 1, again.summary)

        // A password in the connection string is refused (it would be on command lines).
        let withPassword = try sandbox.cairnRun(["pg", "dump", "--name", "x", "--dbname", "host=\(cluster.dir) port=\(cluster.port) dbname=shop password=hunter2"])
        XCTAssertEqual(withPassword.status, 1)
        XCTAssertTrue(withPassword.err.contains("password"), withPassword.summary)
        XCTAssertFalse(withPassword.err.contains("hunter2"), "the secret must not be echoed")
    }

    func testADumpThatFailsHalfWayLeavesNoSnapshot() throws {
        let sandbox = try Sandbox()
        let cluster = try PostgresCluster(sandbox: sandbox, archiveCommand: "/bin/true")
        defer { cluster.stop() }
        let conn = try cluster.connect()
        try conn.query("CREATE TABLE big AS SELECT g, md5(g::text) || md5((g + 1)::text) AS pad FROM generate_series(1, 600000) g")
        // Kill pg_dump's session while it copies the table out.
        let conninfo = cluster.conninfo
        let killer = Thread {
            guard let c = try? PGConnection(conninfo) else { return }
            for _ in 0..<400 {
                if let n = try? c.value("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'pg_dump' AND query LIKE 'COPY%'"),
                   n != "0" { return }
                usleep(25_000)
            }
        }
        killer.start()
        let dump = try sandbox.cairnRun(["pg", "dump", "--name", "half", "--dbname", "host=\(cluster.dir) port=\(cluster.port) dbname=postgres user=postgres"])
        XCTAssertEqual(dump.status, 1, dump.summary)
        XCTAssertTrue(dump.err.contains("pg_dump failed"), dump.summary)
        let list = try sandbox.cairnRun(["snapshots", "--json"], env: sandbox.repositoryEnvironment).check("snapshots")
        XCTAssertFalse(list.out.contains("\"half\""), "a failed dump must leave no snapshot: \(list.out)")
    }

    func testADumpSeriesWithChurnDeduplicates() throws {
        let sandbox = try Sandbox()
        let cluster = try PostgresCluster(sandbox: sandbox, archiveCommand: "/bin/true")
        defer { cluster.stop() }
        let conn = try cluster.connect()
        try conn.query("CREATE TABLE items(id int PRIMARY KEY, name text, price numeric(10,2), descr text)")
        try conn.query("INSERT INTO items SELECT g, 'item ' || g, g % 1000 / 10.0, repeat(md5(g::text), 3) FROM generate_series(1, 60000) g")
        var logical: UInt64 = 0, new: UInt64 = 0, stored: UInt64 = 0
        var firstNew: UInt64 = 0
        for day in 0..<4 {
            if day > 0 {
                // A day of churn: 0.1% of rows updated (scattered), a few deleted, 300 added.
                try conn.query("UPDATE items SET price = price + 1, descr = md5(random()::text) WHERE id % 1000 = \(day)")
                try conn.query("DELETE FROM items WHERE id % 9973 = \(day)")
                try conn.query("INSERT INTO items SELECT 100000 * \(day) + g, 'new ' || g, 1, md5(g::text) FROM generate_series(1, 300) g")
            }
            let r = try sandbox.cairnRun(["pg", "dump", "--name", "items", "--dbname", "host=\(cluster.dir) port=\(cluster.port) dbname=postgres user=postgres", "--json"])
            try r.check("pg dump day \(day)")
            let j = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
            let l = UInt64(j["logical_bytes"] as? Int ?? 0), n = UInt64(j["new_bytes"] as? Int ?? 0)
            if day == 0 { firstNew = n }
            logical += l; new += n; stored += UInt64(j["stored_bytes"] as? Int ?? 0)
        }
        let ratio = Double(logical) / Double(max(new, 1))
        print("pg dump series: 4 dumps, \(logical) logical bytes, \(new) new chunk bytes (dedup ratio \(String(format: "%.2f", ratio))), \(stored) bytes stored (overall \(String(format: "%.2f", Double(logical) / Double(max(stored, 1))))); first dump \(firstNew) new")
        XCTAssertGreaterThan(ratio, 2.0, "4 daily dumps with 0.1% churn should share most chunks")
    }

    /// The cause of a PostgreSQL tool's failure is its first error line, with its context after it.
    func testChildFailureShowsTheCause() {
        let stderr = """
        pg_restore: while PROCESSING TOC:
        pg_restore: from TOC entry 3340; 1262 16384 DATABASE shop postgres
        pg_restore: error: could not execute query: ERROR:  database "shop" already exists
        Command was: CREATE DATABASE shop WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE_PROVIDER = libc LOCALE = 'C.UTF-8';
        """
        let text = PostgresError.childFailed(program: "pg_restore", status: 1, stderr: stderr).description
        XCTAssertTrue(text.hasPrefix("pg_restore failed with exit status 1: could not execute query: ERROR:  database \"shop\" already exists (Command was: CREATE DATABASE shop"), text)
        XCTAssertTrue(text.contains("createdb"), text)
        XCTAssertEqual(PostgresError.childFailed(program: "pg_dump", status: 1, stderr: "pg_dump: something odd\nlast words").description,
                       "pg_dump failed with exit status 1: last words")
        XCTAssertEqual(PostgresError.childFailed(program: "pg_dump", status: 2, stderr: "").description, "pg_dump failed with exit status 2")
    }
}

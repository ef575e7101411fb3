import Foundation
import XCTest

/// restic's snapshot filters (--host --tag --path --latest --group-by) on
/// snapshots, restore/ls latest, forget and copy; `forget ID...`; `tag`.
final class SnapshotSelectionTests: CLITestCase {
    /// Five snapshots: two hosts, tags, two paths, known times. Returns ids by label.
    func makeSnapshots() throws -> [String: String] {
        try initRepo()
        let etc = try makeDir("src/etc"), home = try makeDir("src/home")
        try write(Data("etc v1\n".utf8), to: etc.appendingPathComponent("hosts"))
        try write(Data("home v1\n".utf8), to: home.appendingPathComponent("notes"))
        var ids: [String: String] = [:]
        func snap(_ label: String, _ path: URL, name: String, host: String, tags: [String], time: String) throws {
            ids[label] = try backup([path.path, "--name", name, "--host", host, "--time", time] + tags.flatMap { ["--tag", $0] })
                .string("snapshot_id")
        }
        try snap("a1", etc, name: "etc", host: "db1", tags: ["daily"], time: "2026-03-01T02:00:00Z")
        try write(Data("etc v2\n".utf8), to: etc.appendingPathComponent("hosts"))
        try snap("a2", etc, name: "etc", host: "db1", tags: ["daily", "pg"], time: "2026-03-02T02:00:00Z")
        try snap("b1", etc, name: "etc", host: "web1", tags: ["weekly"], time: "2026-03-03T02:00:00Z")
        try snap("h1", home, name: "home", host: "db1", tags: [], time: "2026-03-04T02:00:00Z")
        try snap("h2", home, name: "home", host: "web1", tags: ["daily"], time: "2026-03-05T02:00:00Z")
        return ids
    }

    func ids(_ args: [String]) throws -> Set<String> {
        Set(try snapshots(args).map { try $0.string("id") })
    }

    func testSnapshotFilters() throws {
        let id = try makeSnapshots()
        let etcPath = tmp.appendingPathComponent("src/etc").path
        XCTAssertEqual(try ids([]).count, 5)
        XCTAssertEqual(try ids(["--host", "db1"]), [id["a1"]!, id["a2"]!, id["h1"]!])
        XCTAssertEqual(try ids(["--host", "db1", "--host", "web1"]).count, 5)
        XCTAssertEqual(try ids(["--tag", "daily"]), [id["a1"]!, id["a2"]!, id["h2"]!])
        XCTAssertEqual(try ids(["--tag", "daily,pg"]), [id["a2"]!], "a,b is both")
        XCTAssertEqual(try ids(["--tag", "pg", "--tag", "weekly"]), [id["a2"]!, id["b1"]!], "repeated is either")
        XCTAssertEqual(try ids(["--path", etcPath]), [id["a1"]!, id["a2"]!, id["b1"]!])
        XCTAssertEqual(try ids(["--path", etcPath + "/"]), [id["a1"]!, id["a2"]!, id["b1"]!], "a trailing slash is the same path")
        XCTAssertEqual(try ids(["--path", "/nowhere"]), [])
        XCTAssertEqual(try ids(["--name", "home", "--host", "web1"]), [id["h2"]!])
        // --latest N: the N newest of each group (by name by default).
        XCTAssertEqual(try ids(["--latest", "1"]), [id["b1"]!, id["h2"]!])
        XCTAssertEqual(try ids(["--latest", "2", "--name", "etc"]), [id["a2"]!, id["b1"]!])
        // --group-by: JSON groups with their key.
        let groups = try ok(["snapshots", "--json", "--group-by", "host", "--latest", "1"]).jsonArray()
        XCTAssertEqual(groups.count, 2)
        var newestByHost: [String: String] = [:]
        for g in groups {
            let key = try XCTUnwrap(g["group_key"] as? [String: Any])
            let snaps = try XCTUnwrap(g["snapshots"] as? [[String: Any]])
            XCTAssertEqual(snaps.count, 1)
            newestByHost[try key.string("host")] = try snaps[0].string("id")
        }
        XCTAssertEqual(newestByHost, ["db1": id["h1"]!, "web1": id["h2"]!])
        let table = try ok(["snapshots", "--group-by", "name,host"]).out
        XCTAssertTrue(table.contains("snapshots of name \"etc\", host \"db1\":"), table)
        XCTAssertTrue(table.contains("5 snapshot(s)"), table)
        // Bad values are usage errors.
        try fails(["snapshots", "--latest", "0"], code: 2)
        try fails(["snapshots", "--group-by", "colour"], code: 2)
    }

    func testLatestWithFiltersOnRestoreAndLs() throws {
        let id = try makeSnapshots()
        // latest of host db1 among etc snapshots is a2 (etc v2); of web1 it is b1.
        let out = tmp.appendingPathComponent("out")
        try ok(["restore", "latest", "--name", "etc", "--host", "db1", "--tag", "pg", "--target", out.path])
        let restored = try XCTUnwrap(FileManager.default.enumerator(atPath: out.path)?.allObjects as? [String]).filter { $0.hasSuffix("hosts") }
        XCTAssertEqual(restored.count, 1)
        XCTAssertEqual(try String(contentsOfFile: out.appendingPathComponent(restored[0]).path, encoding: .utf8), "etc v2\n")
        let ls = try ok(["ls", "latest", "--host", "db1", "--json"]).jsonLines()
        XCTAssertTrue(try ls.contains { try $0.string("path").hasSuffix("notes") }, "latest of db1 is the home snapshot h1: \(ls)")
        // Nothing selected: a clear error naming the filter.
        let none = try failsOneLine(["restore", "latest", "--host", "nohost", "--target", out.path + "2"])
        XCTAssertTrue(none.err.contains("--host nohost"), none.summary)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path + "2"), "nothing written")
        _ = id
    }

    func testForgetChosenSnapshotsWithPrune() throws {
        let id = try makeSnapshots()
        // Dry run: nothing goes.
        let dry = try ok(["forget", String(id["a1"]!.prefix(10)), "--dry-run", "--json"]).jsonObject()
        XCTAssertEqual(dry["removed"] as? [String], [id["a1"]!])
        XCTAssertEqual(try ids([]).count, 5)
        let packsBefore = try packFiles().count
        // Two by prefix, one by latest with a filter; --prune deletes the data only they held.
        let r = try ok(["forget", String(id["a1"]!.prefix(8)), id["b1"]!, "latest", "--host", "web1", "--prune", "--json"]).jsonObject()
        XCTAssertEqual(Set(r["removed"] as? [String] ?? []), [id["a1"]!, id["b1"]!, id["h2"]!])
        XCTAssertNotNil(r["prune"] as? [String: Any], "\(r)")
        XCTAssertEqual(try ids([]), [id["a2"]!, id["h1"]!])
        XCTAssertLessThanOrEqual(try packFiles().count, packsBefore)
        // The rest still restores byte for byte and scrubs clean.
        let out = tmp.appendingPathComponent("out")
        try ok(["restore", id["a2"]!, "--target", out.path])
        try ok(["scrub", "--read-data"])
        // Human output names what went.
        let human = try ok(["forget", String(id["h1"]!.prefix(8))]).out
        XCTAssertTrue(human.contains("removed snapshot \(id["h1"]!.prefix(8))"), human)
        XCTAssertTrue(human.contains("cairn prune"), human)
        // An unknown id removes nothing and fails with one line; ids and a policy do not mix.
        try failsOneLine(["forget", "deadbeef", id["a2"]!])
        XCTAssertEqual(try ids([]), [id["a2"]!])
        try fails(["forget", id["a2"]!, "--keep-last", "1"], code: 2)
    }

    func testForgetPolicyTakesPathFilter() throws {
        let id = try makeSnapshots()
        let home = tmp.appendingPathComponent("src/home").path
        let r = try ok(["forget", "--keep-last", "1", "--path", home, "--group-by", "", "--json"]).jsonObject()
        XCTAssertEqual(r["removed"] as? [String], [id["h1"]!])
        XCTAssertEqual(try ids([]).count, 4)
        // The human table shows times as every table does: RFC 3339 UTC.
        let human = try ok(["forget", "--keep-last", "1", "--dry-run"]).out
        XCTAssertTrue(human.contains("2026-03-03T02:00:00Z"), human)
    }

    func testTablesFitLongNames() throws {
        try initRepo()
        let long = "a-very-long-host-name-beyond-the-column.example.com"
        for (host, name) in [(long, "n"), ("db1", "a-snapshot-name-longer-than-its-column")] {
            _ = try backup(["--stdin", "--name", name, "--host", host], stdin: .data(Data(host.utf8)))
        }
        let lines = try ok(["snapshots"]).out.split(separator: "\n").map(String.init)
        let header = try XCTUnwrap(lines.first)
        let nameColumn = try XCTUnwrap(header.range(of: "NAME")).lowerBound.utf16Offset(in: header)
        let sizeColumn = try XCTUnwrap(header.range(of: "SIZE")).lowerBound.utf16Offset(in: header)
        for row in lines.dropFirst().dropLast() {
            let chars = Array(row)
            XCTAssertEqual(chars[nameColumn - 1], " ", "the name starts at its column: \(row)")
            XCTAssertNotEqual(chars[nameColumn], " ", "the name starts at its column: \(row)")
            XCTAssertEqual(chars[sizeColumn - 1], " ", row)
            XCTAssertTrue(chars[sizeColumn].isNumber, "the size starts at its column: \(row)")
        }
    }

    func testTagAddRemoveSetAndCopyCarriesTags() throws {
        let id = try makeSnapshots()
        // Add to one snapshot (by prefix): new id, same content, old id gone.
        let added = try ok(["tag", String(id["h1"]!.prefix(8)), "--add", "keep,audit", "--json"]).jsonArray()
        XCTAssertEqual(added.count, 1)
        XCTAssertEqual(try added[0].string("old"), id["h1"]!)
        let h1 = try added[0].string("new")
        XCTAssertNotEqual(h1, id["h1"]!)
        let snap = try XCTUnwrap(try snapshots(["--tag", "keep"]).first)
        XCTAssertEqual(try snap.string("id"), h1)
        XCTAssertEqual(snap["tags"] as? [String], ["keep", "audit"])
        XCTAssertEqual(try snap.string("time"), "2026-03-04T02:00:00Z", "time, host and name unchanged")
        XCTAssertEqual(try snap.string("host"), "db1")
        XCTAssertEqual(try ids([]).count, 5)
        let out = tmp.appendingPathComponent("out")
        try ok(["restore", h1, "--target", out.path])
        // Remove by filter: every daily snapshot loses "daily".
        let removed = try ok(["tag", "--tag", "daily", "--remove", "daily", "--json"]).jsonArray()
        XCTAssertEqual(removed.count, 3)
        XCTAssertEqual(try ids(["--tag", "daily"]), [])
        XCTAssertEqual(try snapshots(["--tag", "pg"]).first?["tags"] as? [String], ["pg"])
        // Set replaces; unchanged snapshots are not rewritten.
        try ok(["tag", "latest", "--name", "etc", "--set", "monthly"])
        let again = try ok(["tag", "latest", "--name", "etc", "--set", "monthly"])
        XCTAssertTrue(again.out.contains("no snapshot changed"), again.summary)
        try ok(["tag", "latest", "--name", "home", "--set", ""])
        XCTAssertEqual(try snapshots(["--name", "home", "--host", "web1"]).first?["tags"] as? [String], [])
        try ok(["scrub"])

        // copy carries tags, and a later retag in the source reaches the destination on the next copy.
        let dest = tmp.appendingPathComponent("dest")
        try ok(["init", "--repo", dest.path])
        try ok(["copy", "--to", dest.path, "--name", "home"])
        func destTags() throws -> [String: [String]] {
            var out: [String: [String]] = [:]
            for s in try ok(["snapshots", "--json", "--repo", dest.path]).jsonArray() { out[try s.string("host")] = s["tags"] as? [String] }
            return out
        }
        XCTAssertEqual(try destTags(), ["db1": ["keep", "audit"], "web1": []])
        try ok(["tag", "--name", "home", "--host", "db1", "--remove", "audit", "--add", "offsite"])
        let copy = try ok(["copy", "--to", dest.path, "--name", "home", "--json"]).jsonObject()
        XCTAssertEqual((copy["retagged"] as? [[String: Any]])?.count, 1, "\(copy)")
        XCTAssertEqual(try destTags(), ["db1": ["keep", "offsite"], "web1": []])
        XCTAssertEqual(try ok(["snapshots", "--json", "--repo", dest.path]).jsonArray().count, 2)

        // Usage errors: nothing to change, nothing named.
        try fails(["tag", h1], code: 2)
        try fails(["tag", "--add", "x"], code: 2)
        try failsOneLine(["tag", "nosuchid", "--add", "x"])
    }

    func testCopyTakesFilters() throws {
        let id = try makeSnapshots()
        let dest = tmp.appendingPathComponent("dest")
        try ok(["init", "--repo", dest.path])
        try ok(["copy", "--to", dest.path, "--host", "web1", "--tag", "daily"])
        let copied = try ok(["snapshots", "--json", "--repo", dest.path]).jsonArray()
        XCTAssertEqual(copied.count, 1)
        XCTAssertEqual(try copied[0].string("name"), "home")
        XCTAssertEqual(try copied[0].string("host"), "web1")
        _ = id
    }
}

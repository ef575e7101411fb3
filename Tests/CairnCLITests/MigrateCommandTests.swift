import Foundation
import XCTest

/// `cairn init --repository-version` and `cairn migrate` through the binary (format-spec v2.md).
final class MigrateCommandTests: CLITestCase {
    /// The envelope version of the stored config (bytes 4-5, little-endian).
    func configVersion() throws -> Int {
        let b = try Data(contentsOf: repo.appendingPathComponent("config"))
        return Int(b[4]) | Int(b[5]) << 8
    }

    func snapshotObjects() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: repo.appendingPathComponent("snapshots").path)
    }

    func testMigrateAFormatOneRepositoryInPlace() throws {
        let created = try ok(["init", "--json", "--repository-version", "1"]).jsonObject()
        XCTAssertEqual(try created.int("repository_version"), 1)
        XCTAssertEqual(try configVersion(), 1)
        var streams: [String: Data] = [:]
        for i in 0..<20 {
            let data = TestData.random(3000 + i, seed: UInt64(i + 1))
            streams[try backup(["--stdin", "--name", "db\(i % 2)"], stdin: .data(data)).string("snapshot_id")] = data
        }
        XCTAssertEqual(try snapshotObjects().count, 20, "format 1: one object per snapshot")

        let result = try ok(["migrate", "--json"]).jsonObject()
        XCTAssertEqual(try result.int("from_version"), 1)
        XCTAssertEqual(try result.int("to_version"), 2)
        XCTAssertEqual(try result.int("snapshots_catalogued"), 20)
        XCTAssertEqual(try configVersion(), 2)
        XCTAssertEqual(try snapshotObjects().count, 1)

        // With an empty cache (another machine): every snapshot, by the same id, byte for byte.
        let fresh = ["CAIRN_CACHE_DIR": tmp.appendingPathComponent("fresh-cache").path]
        let listed = try ok(["snapshots", "--json"], env: fresh).jsonArray()
        XCTAssertEqual(Set(try listed.map { try $0.string("id") }), Set(streams.keys))
        for (id, data) in streams.sorted(by: { $0.key < $1.key }).prefix(3) {
            XCTAssertEqual(try ok(["restore", id, "--stdout"], env: fresh).stdout, data)
        }
        XCTAssertEqual(try ok(["restore", "latest", "--stdout", "--name", "db1"], env: fresh).stdout,
                       streams[try listed.filter { try $0.string("name") == "db1" }.last!.string("id")])
        try ok(["scrub"], env: fresh)

        // Human output, and nothing left to convert.
        let again = try ok(["migrate"])
        XCTAssertTrue(again.out.contains("repository format 2"), again.summary)
        XCTAssertEqual(try snapshotObjects().count, 1)
    }

    func testInitWritesTheNewestFormatAndRefusesAnUnknownOne() throws {
        let created = try ok(["init", "--json"]).jsonObject()
        XCTAssertEqual(try created.int("repository_version"), 2)
        XCTAssertEqual(try configVersion(), 2)
        let r = try fails(["init", "--repository-version", "3", "--repo", tmp.appendingPathComponent("other").path], code: 2)
        XCTAssertTrue(r.err.contains("--repository-version"), r.summary)
    }
}

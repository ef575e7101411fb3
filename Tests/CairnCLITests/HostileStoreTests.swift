import Foundation
import XCTest

/// What someone who controls only the storage (no key) can do to objects:
/// rename, swap, replace with junk of any size (#15.6, #15.10).
final class HostileStoreTests: CLITestCase {
    func dir(_ name: String) -> URL { repo.appendingPathComponent(name) }

    /// #15.6: two snapshot objects' names swapped made `restore <id>` return the other
    /// snapshot's bytes with exit 0. Every object named by its hash is checked on read.
    func testSwappedSnapshotNamesFailClearly() throws {
        try initRepo()
        let a = TestData.random(40_000, seed: 11), b = TestData.random(40_000, seed: 12)
        let idA = try backup(["--stdin", "--name", "a"], stdin: .data(a)).string("snapshot_id")
        let idB = try backup(["--stdin", "--name", "b"], stdin: .data(b)).string("snapshot_id")
        let snaps = dir("snapshots")
        try FileManager.default.moveItem(at: snaps.appendingPathComponent(idA), to: snaps.appendingPathComponent("swap"))
        try FileManager.default.moveItem(at: snaps.appendingPathComponent(idB), to: snaps.appendingPathComponent(idA))
        try FileManager.default.moveItem(at: snaps.appendingPathComponent("swap"), to: snaps.appendingPathComponent(idB))

        // A new machine (no cache): neither id gives the other's bytes.
        let cold: [String: String?] = ["CAIRN_CACHE_DIR": tmp.appendingPathComponent("cold").path]
        for (id, other) in [(idA, b), (idB, a)] {
            let r = try fails(["restore", id, "--stdout"], code: 1, env: cold)
            XCTAssertNotEqual(r.stdout, other, "restore \(id) returned the other snapshot's bytes")
            XCTAssertTrue(r.stdout.isEmpty, r.summary)
            XCTAssertTrue(r.err.contains("snapshot \(id.prefix(12))") && r.err.contains("does not match its name"), r.summary)
        }
        let listed = try ok(["snapshots", "--json"], env: cold)
        XCTAssertEqual(try listed.jsonArray().count, 0, "swapped snapshots are not listed as good")
        XCTAssertTrue(listed.err.contains("does not match its name"), listed.summary)
        // Scrub names both.
        let scrub = try cli.run(["scrub"], env: cold)
        XCTAssertNotEqual(scrub.status, 0, scrub.summary)
        XCTAssertTrue(scrub.out.contains(idA) || scrub.err.contains(idA), scrub.summary)

        // Put back, everything is as before.
        try FileManager.default.moveItem(at: snaps.appendingPathComponent(idA), to: snaps.appendingPathComponent("swap"))
        try FileManager.default.moveItem(at: snaps.appendingPathComponent(idB), to: snaps.appendingPathComponent(idA))
        try FileManager.default.moveItem(at: snaps.appendingPathComponent("swap"), to: snaps.appendingPathComponent(idB))
        XCTAssertEqual(try ok(["restore", idA, "--stdout"], env: cold).stdout, a)
        XCTAssertEqual(try ok(["restore", idB, "--stdout"], env: cold).stdout, b)
    }

    /// #15.10: four 1 GiB junk files in snapshots/ cost 6.3 GB and 22-31 s on every command.
    /// Their sizes are checked first: each is refused unread (the warning names the cap).
    func testHugeJunkMetadataObjectsAreRefusedUnread() throws {
        try initRepo()
        let data = TestData.random(30_000, seed: 3)
        try ok(["backup", "--stdin", "--name", "d"], stdin: .data(data))
        func sparse(_ relative: String, _ size: UInt64) throws {
            let url = dir(relative)
            _ = FileManager.default.createFile(atPath: url.path, contents: nil)
            let h = try FileHandle(forWritingTo: url)
            try h.truncate(atOffset: size)
            try h.close()
        }
        for i in 0..<4 { try sparse("snapshots/\(String(repeating: "\(i)", count: 64))", 1 << 30) }
        try sparse("index/\(String(repeating: "e", count: 64))", 1 << 30)
        try sparse("keys/\(String(repeating: "f", count: 64))", 1 << 30)

        let cold: [String: String?] = ["CAIRN_CACHE_DIR": tmp.appendingPathComponent("cold").path]
        let started = Date()
        let r = try ok(["restore", "latest", "--stdout"], env: cold)
        let seconds = Date().timeIntervalSince(started)
        XCTAssertEqual(r.stdout, data)
        XCTAssertTrue(r.err.contains("more than the 67108864 bytes any snapshot object may have"), r.err)
        XCTAssertTrue(r.err.contains("more than the 268435456 bytes any index object may have"), r.err)
        XCTAssertEqual(r.err.components(separatedBy: "snapshot object").count - 1, 8, r.err)   // 4 warnings, each names the kind twice
        // Warm: the same, every time (junk is never cached as good).
        let again = try ok(["snapshots", "--json"], env: cold)
        XCTAssertEqual(try again.jsonArray().count, 1)
        print("restore beside six 1 GiB junk objects, cold cache: \(String(format: "%.2f", seconds)) s")
    }
}

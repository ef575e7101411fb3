import Foundation
import XCTest

/// `cairn init --copy-keys-from` and `cairn copy --share-keys` (issue 16.5):
/// a destination sharing the source's master keys gets whole packs, byte for
/// byte, and restores like the source; the options refuse what they cannot do.
final class CopyWholePackTests: CLITestCase {
    private func dataFiles(_ root: URL) throws -> [String: Data] {
        var out: [String: Data] = [:]
        let data = root.appendingPathComponent("data")
        for sub in try FileManager.default.contentsOfDirectory(atPath: data.path) {
            let dir = data.appendingPathComponent(sub)
            for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) where !name.hasPrefix(".") {
                out[name] = try Data(contentsOf: dir.appendingPathComponent(name))
            }
        }
        return out
    }

    func testCopyIntoAReplicaSharingTheKeysCopiesWholePacks() throws {
        try initRepo(["--pack-size-mib", "1"])
        let content = TestData.random(3 << 20, seed: 165)
        let input = tmp.appendingPathComponent("input")
        try content.write(to: input)
        _ = try backup(["--stdin", "--name", "db"], stdin: .file(input))

        // init --copy-keys-from, then copy: every pack arrives as it is.
        let replica = tmp.appendingPathComponent("replica")
        try ok(["init", "--repo", replica.path, "--copy-keys-from", repo.path])
        let report = try ok(["copy", "--to", replica.path, "--json"]).jsonObject()
        let sourcePacks = try dataFiles(repo)
        XCTAssertEqual(try report.int("packs_copied_whole"), sourcePacks.count)
        XCTAssertEqual(try dataFiles(replica), sourcePacks)
        try ok(["scrub", "--read-data", "--repo", replica.path])
        let back = tmp.appendingPathComponent("back")
        try ok(["restore", "latest", "--name", "db", "--stdout", "--repo", replica.path]).stdout.write(to: back)
        XCTAssertTrue(try TestData.filesEqual(back, input))

        // copy --share-keys creates the destination with the source's keys; the text report says so.
        let tier = tmp.appendingPathComponent("tier")
        let text = try ok(["copy", "--to", tier.path, "--share-keys"])
        XCTAssertTrue(text.out.contains("sharing the source's master keys"), text.summary)
        XCTAssertTrue(text.out.contains("packs copied whole"), text.summary)
        XCTAssertEqual(try dataFiles(tier), sourcePacks)

        // A replica with keys of its own still gets every blob, sealed again, no pack whole.
        let own = tmp.appendingPathComponent("own")
        try ok(["init", "--repo", own.path, "--copy-chunker-from", repo.path])
        let ownReport = try ok(["copy", "--to", own.path, "--json"]).jsonObject()
        XCTAssertEqual(try ownReport.int("packs_copied_whole"), 0)
        XCTAssertGreaterThan(try ownReport.int("blobs_copied"), 0)
    }

    func testTheKeyOptionsRefuseWhatTheyCannotDo() throws {
        try initRepo()
        let other = tmp.appendingPathComponent("other")
        try fails(["init", "--repo", other.path, "--copy-keys-from", repo.path, "--copy-chunker-from", repo.path], code: 2)
        try ok(["init", "--repo", other.path])
        let r = try fails(["copy", "--to", other.path, "--share-keys"], code: 2)
        XCTAssertTrue(r.err.contains("--share-keys"), r.summary)
    }
}

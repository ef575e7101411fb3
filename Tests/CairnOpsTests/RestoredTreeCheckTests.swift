import CairnOps
import Foundation
import XCTest

/// The drill's manifest comparison, without a repository or a process: a hand-built manifest (the lines
/// `cairn ls --json` prints) against a hand-built tree, and every kind of difference it must catch.
final class RestoredTreeCheckTests: XCTestCase {
    private var root = ""

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("tree-check-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        chmod(root + "/etc", 0o755)
        XCTAssertTrue(FileManager.default.createFile(atPath: root + "/etc/app.conf", contents: Data("0123456789".utf8)))
        chmod(root + "/etc/app.conf", 0o640)
        try FileManager.default.createSymbolicLink(atPath: root + "/etc/current", withDestinationPath: "app.conf")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: root) }

    private func manifest(size: Int = 10, mode: Int = 0o640, link: String = "app.conf", type: String = "file") -> String {
        """
        {"path":"/etc","type":"dir","mode":\(0o755)}
        {"path":"/etc/app.conf","type":"\(type)","size":\(size),"mode":\(mode)}
        {"path":"/etc/current","type":"symlink","link_target":"\(link)"}

        """
    }

    private func failure(_ manifest: String) -> String {
        do {
            _ = try RestoredTreeCheck.compare(manifest: manifest, restoredAt: root)
            return "no error"
        } catch { return "\(error)" }
    }

    func testAMatchingTreeIsCounted() throws {
        let s = try RestoredTreeCheck.compare(manifest: manifest(), restoredAt: root)
        XCTAssertEqual(s, RestoredTreeCheck.Summary(entries: 3, files: 1, bytes: 10))
        XCTAssertEqual(s.description, "3 entries match the manifest (1 files, 10 B)")
    }

    func testEveryDifferenceIsNamed() {
        XCTAssertEqual(failure(manifest(size: 11)), "/etc/app.conf has 10 bytes, the manifest says 11")
        XCTAssertEqual(failure(manifest(mode: 0o600)), "/etc/app.conf has mode 640, the manifest says 600")
        XCTAssertEqual(failure(manifest(link: "other")), "/etc/current points to \"app.conf\", the manifest says \"other\"")
        XCTAssertEqual(failure(manifest(type: "dir")), "/etc/app.conf should be a directory")
        XCTAssertEqual(failure(manifest() + "{\"path\":\"/etc/lost\",\"type\":\"file\",\"size\":1}\n"), "/etc/lost is in the manifest but was not restored")
        XCTAssertEqual(failure(""), "the manifest is empty")
        XCTAssertEqual(failure("{\"type\":\"file\"}\n"), "cannot read the manifest line {\"type\":\"file\"}")
        XCTAssertEqual(failure("not json\n"), "cannot read the manifest line not json")
    }
}

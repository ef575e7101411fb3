@testable import CairnEngine
import CairnFormat
import CairnTestSupport
import XCTest

/// `SnapshotFinder` on forged trees: a subtree that appears under several
/// paths (one tree id) is searched once and its matches reported under every
/// path, in the walk's order, the same on a second search from the memo.
final class SnapshotFinderTests: XCTestCase {
    func testSharedSubtreeMatchesAreReportedUnderEveryPath() async throws {
        let t = try await TestRepository.make()
        let forge = TreeForge(t.repo)
        let shared = try await forge.directory("x", [try await forge.file("f.txt", Array("same".utf8))])
        let record = try await forge.snapshot([
            try await forge.directory("a", [shared]),
            try await forge.directory("b", [shared]),
            try await forge.directory("c", [try await forge.file("f.txt", Array("other".utf8))]),
        ])

        let finder = SnapshotFinder(repo: t.repo, patterns: ["f.txt"])
        for _ in 0..<2 {   // the second search answers from the remembered trees
            let found = try await finder.find(in: record)
            XCTAssertEqual(found.map { String(decoding: $0.path, as: UTF8.self) }, ["/a/x/f.txt", "/b/x/f.txt", "/c/f.txt"])
            XCTAssertEqual(found.map(\.node.size), [4, 4, 5])
        }
        let byPath = try await SnapshotFinder(repo: t.repo, patterns: ["*/x/*"]).find(in: record)
        XCTAssertEqual(byPath.map { String(decoding: $0.path, as: UTF8.self) }, ["/a/x/f.txt", "/b/x/f.txt"])
        let dirs = try await SnapshotFinder(repo: t.repo, patterns: ["x", "c"]).find(in: record)
        XCTAssertEqual(dirs.map { String(decoding: $0.path, as: UTF8.self) }, ["/a/x", "/b/x", "/c"])
        XCTAssertEqual(dirs.map(\.node.kind), [.directory, .directory, .directory])
    }
}

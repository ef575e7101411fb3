@testable import CairnEngine
import CairnFormat
import CairnStorage
import CairnTestSupport
import Foundation
import XCTest

final class ListBlobLevelTests: XCTestCase {
    /// A content reference whose list blob is not exactly one level below it
    /// is damage: restore names the list blob, prune stops before deleting.
    func testAListBlobAtTheWrongLevelIsDamageEverywhereContentIsWalked() async throws {
        let t = try await TestRepository.make()
        let bytes = pseudoRandomBytes(40_000, seed: 5)
        let good = try await backupStream(t.repo, bytes, name: "good")
        let goodRoot = try await t.repo.loadTree(try t.repo.resolveSnapshot(good.snapshotID).snapshot.root)
        let dataIDs = goodRoot.nodes[0].content.ids
        XCTAssertEqual(goodRoot.nodes[0].content.level, 0)

        // A level-0 list under a level-2 reference: what a damaged or hostile writer could leave.
        let saver = BlobSaver(repo: t.repo)
        let list = try await saver.saveMetadata(.list, ContentRef(level: 0, ids: dataIDs).encodedListBlob())
        var node = Node(name: Array("bad".utf8), kind: .file, mode: 0o600)
        node.size = UInt64(bytes.count)
        node.content = ContentRef(level: 2, ids: [list])
        let root = try await saver.saveMetadata(.tree, Tree(nodes: [node]).encoded())
        try await saver.finish()
        let id = try await t.repo.saveSnapshot(Snapshot(timeNanos: 1, name: "bad", host: "h", sourceKind: "stream", root: root))

        do {
            _ = try await restoreStream(t.repo, id)
            XCTFail("a list blob at the wrong level must fail the restore")
        } catch {
            let text = "\(error)"
            XCTAssertTrue(text.contains(list.hex) && text.contains("level 0 under level 2"), text)
        }
        var o = PruneOptions(); o.dryRun = true
        do {
            _ = try await Pruner(repo: t.repo, options: o).run()
            XCTFail("prune must stop on a list blob at the wrong level")
        } catch {
            let text = "\(error)"
            XCTAssertTrue(text.contains("level 0 under level 2") && text.contains("prune stops"), text)
        }
        // The good snapshot is untouched.
        let restored = try await restoreStream(t.repo, good.snapshotID)
        XCTAssertEqual(restored, bytes)
    }
}

@testable import CairnEngine
@testable import CairnRepository
import CairnCrypto
import CairnFormat
import CairnIndex
import CairnStorage
import CairnTestSupport
import XCTest

/// The small version of Benchmarks/index-memory (issue 16.3): a repository
/// whose index names 2^14 blobs (packs of zeros behind real sealed headers,
/// as the benchmark makes them by the hundred million) is scrubbed, its
/// cache rebuilt and pruned, each with the right result, while what prune
/// and scrub hold per blob (the index table and its bits) stays under the
/// issue's 20 bytes.
final class IndexMemoryTests: XCTestCase {
    func testScrubRebuildAndPruneOfASyntheticIndexHoldUnderTwentyBytesABlob() async throws {
        let mem = MemoryStore()
        let t = try await TestRepository.make(store: mem)
        let repo = t.repo
        let packs = 16, perPack = 1024, blobs = packs * perPack
        var indexed: [IndexedPack] = []
        var used: [ChunkID] = []
        for p in 0..<packs {
            let entries = (0..<perPack).map { i in
                BlobEntry(type: .data, id: SHA256.id(Array("blob \(p) \(i)".utf8)), offset: UInt64(i * 48), length: 48, rawLength: 8)
            }
            let bytes = [UInt8](repeating: 0, count: perPack * 48) + (try PackAssembler.trailer(type: .data, entries: entries, keys: repo.keys))
            let id = SHA256.packID(bytes)
            try await mem.put(ObjectKey(.data, id.hex), bytes)
            indexed.append(IndexedPack(id: id, type: .data, size: UInt64(bytes.count), entries: entries))
            // The first half of the packs is used (4 blobs each); the second half is not.
            if p < packs / 2 { used += entries.prefix(4).map(\.id) }
        }
        _ = try await repo.saveIndexDeltas(indexed)
        let saver = BlobSaver(repo: repo)
        let files = used.enumerated().map { i, id in Node(name: Array("f\(i)".utf8), kind: .file, size: 8, content: ContentRef(ids: [id])) }
        let root = try await saver.saveMetadata(.tree, Tree(nodes: files).encoded())
        try await saver.finish()
        _ = try await repo.saveSnapshot(Snapshot(timeNanos: 1, name: "synthetic", host: "h", paths: ["/s"], sourceKind: "tree", root: root))

        // Scrub: every pack's size and header agree with the index.
        let fresh = try await t.reopen()
        let scrub = try await Checker(repo: fresh, options: ScrubOptions()).run()
        XCTAssertTrue(scrub.isClean, "\(scrub.packProblems.prefix(3)) \(scrub.blobProblems.prefix(3))")
        XCTAssertEqual(scrub.packsChecked, packs + 1)
        let view = try await StoreIndexView.load(fresh)
        XCTAssertEqual(view.table.recordCount, blobs + 1)
        XCTAssertLessThan(Double(view.table.memoryBytes) / Double(blobs), 20, "scrub's view of the index: \(view.table.memoryBytes) bytes")

        // Index rebuild: the cache, filled again a batch at a time, locates every blob.
        let rebuilt = try await IndexRebuilder(repo: fresh).rebuild()
        XCTAssertEqual(rebuilt.blobs, blobs + 1)
        for p in stride(from: 0, to: packs, by: 3) {
            let e = indexed[p].entries[p % perPack]
            XCTAssertEqual(try fresh.index.lookup(e.id, type: .data)?.pack, indexed[p].id)
        }

        // Prune (deleting only): the unused half goes, the used half stays whole.
        var options = PruneOptions()
        options.maxRepackBytes = 0
        let pruner = Pruner(repo: fresh, options: options)
        let result = try await pruner.run()
        XCTAssertEqual(result.usedBlobs, used.count + 1)
        XCTAssertEqual(result.packsDeleted, packs / 2)
        XCTAssertEqual(result.packsRepacked, 0)
        let perBlob = Double(pruner.indexMemoryBytes) / Double(blobs)
        XCTAssertGreaterThan(pruner.indexMemoryBytes, blobs * 12, "the table's rows are counted")
        XCTAssertLessThan(perBlob, 20, "prune held \(pruner.indexMemoryBytes) bytes for \(blobs) blobs")

        try await fresh.sync()
        let left = try await StoreIndexView.load(fresh)
        XCTAssertEqual(left.packCount, packs / 2 + 1)
        XCTAssertNotNil(try left.location(.init(id: used[0], type: .data)))
        XCTAssertNil(try left.location(.init(id: indexed[packs - 1].entries[0].id, type: .data)))
        let scrubAfter = try await Checker(repo: fresh, options: ScrubOptions()).run()
        XCTAssertTrue(scrubAfter.isClean)
    }
}

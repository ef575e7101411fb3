@testable import CairnEngine
@testable import CairnRepository
import CairnCrypto
import CairnFormat
import CairnIndex
import CairnStorage
import CairnTestSupport
import Foundation
import XCTest

/// The small version of Benchmarks/index-memory (issue 16.3): a repository
/// whose index names 2^14 blobs (packs of zeros behind real sealed headers,
/// as the benchmark makes them by the hundred million) is scrubbed, its
/// cache rebuilt, a snapshot copied out of it and the rest pruned, each with
/// the right result, while what prune and scrub hold per blob (the index
/// table and its bits) stays under the 20 bytes and index rebuild
/// holds a few index objects' entries, not the index.
final class IndexMemoryTests: XCTestCase {
    func testScrubRebuildCopyAndPruneOfASyntheticIndexHoldUnderTwentyBytesABlob() async throws {
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
        // One index object a pack (as many small backups leave them): the rebuild streams them.
        for pack in indexed { _ = try await repo.saveIndexDelta([pack]) }
        let saver = BlobSaver(repo: repo)
        let files = used.enumerated().map { i, id in Node(name: Array("f\(i)".utf8), kind: .file, size: 8, content: ContentRef(ids: [id])) }
        let root = try await saver.saveMetadata(.tree, Tree(nodes: files).encoded())
        try await saver.finish()
        _ = try await repo.saveSnapshot(Snapshot(timeNanos: 1, name: "synthetic", host: "h", paths: ["/s"], sourceKind: "tree", root: root))
        // A snapshot of real data beside them (the benchmark's `--name real`), for the copy.
        let realBytes = pseudoRandomBytes(200_000, seed: 16)
        _ = try await backupStream(repo, realBytes, name: "real")

        // Scrub: every pack's size and header agree with the index.
        let fresh = try await t.reopen()
        let scrub = try await Checker(repo: fresh, options: ScrubOptions()).run()
        XCTAssertTrue(scrub.isClean, "\(scrub.packProblems.prefix(3)) \(scrub.blobProblems.prefix(3))")
        let realPacks = try await mem.list(.data).count - packs - 1
        XCTAssertEqual(scrub.packsChecked, packs + 1 + realPacks)
        let view = try await StoreIndexView.load(fresh)
        let realBlobs = view.table.recordCount - blobs - 1
        XCTAssertGreaterThan(realBlobs, 0)
        // What the scrub itself held: its table of the index and a bit a tree, and no map entry
        // per blob (one per blob would be 2^14 here).
        XCTAssertGreaterThan(scrub.indexMemoryBytes, blobs * 12, "the table's rows are counted")
        XCTAssertLessThan(Double(scrub.indexMemoryBytes) / Double(blobs), 20, "scrub held \(scrub.indexMemoryBytes) bytes for its index")
        XCTAssertLessThanOrEqual(scrub.blobEntriesHeld, 16, "scrub held \(scrub.blobEntriesHeld) blob-keyed entries for \(blobs) blobs")

        // Index rebuild: the cache, filled again from the index objects one at a time, locates
        // every blob, while at most a window of index objects is held decoded.
        let rebuilt = try await IndexRebuilder(repo: fresh).rebuild()
        XCTAssertEqual(rebuilt.blobs, blobs + 1 + realBlobs)
        XCTAssertEqual(rebuilt.headersRead, 0, "every pack is named by an index object")
        XCTAssertGreaterThan(rebuilt.mostEntriesHeld, 0)
        XCTAssertLessThanOrEqual(rebuilt.mostEntriesHeld, (Repository.indexReadWindow + 1) * perPack,
                                 "rebuild held \(rebuilt.mostEntriesHeld) of \(blobs) entries at once")
        for p in stride(from: 0, to: packs, by: 3) {
            let e = indexed[p].entries[p % perPack]
            XCTAssertEqual(try fresh.index.lookup(e.id, type: .data)?.pack, indexed[p].id)
        }

        // Copy: the real snapshot goes to another repository whole, and nothing of the
        // synthetic index goes with it.
        let replica = try await TestRepository.make(store: MemoryStore())
        let copyReport = try await (try Copier(source: fresh, destination: replica.repo)).copy(try fresh.snapshots().filter { $0.snapshot.name == "real" })
        XCTAssertEqual(copyReport.copied.count, 1)
        let copied = try await replica.reopen()
        let copiedID = try XCTUnwrap(copied.snapshots().first?.id.hex)
        let restoredCopy = try await restoreStream(copied, copiedID)
        XCTAssertTrue(restoredCopy == realBytes, "the copy restores byte for byte")
        XCTAssertNil(try copied.index.lookup(indexed[0].entries[0].id, type: .data), "an unused synthetic blob is not copied")

        // Prune (deleting only): the unused half goes, the used half stays whole.
        var options = PruneOptions()
        options.maxRepackBytes = 0
        let pruner = Pruner(repo: fresh, options: options)
        let result = try await pruner.run()
        XCTAssertEqual(result.usedBlobs, used.count + 1 + realBlobs)
        XCTAssertEqual(result.packsDeleted, packs / 2)
        XCTAssertEqual(result.packsRepacked, 0)
        XCTAssertEqual(result.indexObjects, packs + 2, "one object a synthetic pack, one for the tree's pack, one for the real snapshot's")
        let indexAfter = try await mem.list(.index).count
        XCTAssertEqual(result.indexObjectsWritten, indexAfter, "the rewritten index is every index object left")
        let perBlob = Double(pruner.indexMemoryBytes) / Double(blobs)
        XCTAssertGreaterThan(pruner.indexMemoryBytes, blobs * 12, "the table's rows are counted")
        XCTAssertLessThan(perBlob, 20, "prune held \(pruner.indexMemoryBytes) bytes for \(blobs) blobs")

        try await fresh.sync()
        let left = try await StoreIndexView.load(fresh)
        XCTAssertEqual(left.packCount, packs / 2 + 1 + realPacks)
        XCTAssertNotNil(try left.location(.init(id: used[0], type: .data)))
        XCTAssertNil(try left.location(.init(id: indexed[packs - 1].entries[0].id, type: .data)))
        let scrubAfter = try await Checker(repo: fresh, options: ScrubOptions()).run()
        XCTAssertTrue(scrubAfter.isClean)
    }

    /// A copy by id of a snapshot of 2^14 blobs holds a batch of blob ids, the
    /// destination's claims of the packs in flight and a bounded list of delta ids,
    /// never an entry per blob of the snapshot; and the copy is whole.
    func testACopyOfManyBlobsHoldsABatchOfIdsNotOnePerBlob() async throws {
        let source = try await TestRepository.make(packSize: 1 << 16)
        let blobs = 1 << 14, perDirectory = 256
        let saver = BlobSaver(repo: source.repo)
        var directories: [Node] = []
        for d in 0..<(blobs / perDirectory) {
            var files: [Node] = []
            for f in 0..<perDirectory {
                let plain = pseudoRandomBytes(256, seed: UInt64(d * perDirectory + f))
                let id = SHA256.id(plain)
                XCTAssertTrue(try saver.claim(id, type: .data))
                try await saver.add(sealed: try source.repo.codec.seal(plain, type: .data, id: id), type: .data, id: id, rawLength: plain.count)
                files.append(Node(name: Array("f\(f)".utf8), kind: .file, size: UInt64(plain.count), content: ContentRef(ids: [id])))
            }
            let tree = try await saver.saveMetadata(.tree, Tree(nodes: files).encoded())
            directories.append(Node(name: Array("d\(d)".utf8), kind: .directory, mode: 0o755, subtree: tree))
        }
        let root = try await saver.saveMetadata(.tree, Tree(nodes: directories).encoded())
        try await saver.finish()
        _ = try await source.repo.saveSnapshot(Snapshot(timeNanos: 1, name: "many", host: "h", paths: ["/m"], sourceKind: "tree", root: root))

        // A replica that cuts chunks as the source does (`cairn init --copy-chunker-from`): copied by id.
        var options = Repository.CreateOptions()
        options.scrypt = ScryptParameters(logN: 10, r: 8, p: 1)
        options.packSize = 1 << 16
        options.chunkerSeed = source.repo.chunkerSeed
        options.profiles = source.repo.config.profiles
        let replicaStore = MemoryStore()
        let replica = try await Repository.create(store: replicaStore, passphrase: Array("replica".utf8),
                                                  cacheBase: TestCacheDirectory.make(), options: options)
        let copier = try Copier(source: source.repo, destination: replica)
        XCTAssertTrue(copier.sameChunker)
        let report = try await copier.copy(try source.repo.snapshots())
        XCTAssertEqual(report.copied.count, 1)
        XCTAssertEqual(report.blobsCopied, blobs + blobs / perDirectory + 1)
        // A batch (`batchBlobs` ids, overshot by at most a window) counted in the batch and in the
        // claims, and the claims of the few 64 KiB packs in flight (about 220 blobs each; two
        // uploading, one assembled, others stored and not yet recorded: 8 is room to spare).
        let bound = 2 * (Copier.batchBlobs + copier.window) + 8 * 256
        XCTAssertGreaterThan(report.mostBlobsHeld, 0)
        XCTAssertLessThanOrEqual(report.mostBlobsHeld, bound, "copy held \(report.mostBlobsHeld) blob ids at once for \(blobs) blobs")

        let fresh = try await Repository.open(store: replicaStore, passphrase: Array("replica".utf8),
                                              cacheBase: TestCacheDirectory.make())
        var scrubOptions = ScrubOptions(); scrubOptions.readData = true
        let scrub = try await Checker(repo: fresh, options: scrubOptions).run()
        XCTAssertTrue(scrub.isClean, "\(scrub.blobProblems.prefix(3))")
        XCTAssertEqual(scrub.blobsVerified, blobs + blobs / perDirectory + 1, "every blob of the snapshot is in the replica, readable")
    }
}

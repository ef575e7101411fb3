@testable import CairnEngine
@testable import CairnRepository
import CairnCrypto
import CairnFormat
import CairnIndex
import CairnStorage
import CairnTestSupport
import Foundation
import XCTest

/// Prune keeps every delta it leaves in the index decodable (format-spec §8),
/// in layouts the backup pipeline rarely makes: packs built here by hand.
final class PruneDeltaRuleTests: XCTestCase {
    struct Chunk { let id: ChunkID; let bytes: [UInt8] }

    func chunk(_ bytes: [UInt8]) -> Chunk { Chunk(id: SHA256.id(bytes), bytes: bytes) }

    func flipped(_ b: [UInt8], every: Int, from: Int) -> [UInt8] {
        var out = b
        for i in stride(from: from, to: out.count, by: every) { out[i] ^= 0xFF }
        return out
    }

    /// Stores one data pack with `blobs` (whole, or a delta against `base`) and returns it.
    func pack(_ repo: Repository, _ blobs: [(Chunk, Chunk?)]) async throws -> IndexedPack {
        let w = PackWriter(repo: repo, keepsStored: true)
        for (c, base) in blobs {
            if let base {
                let (sealed, used) = try repo.codec.sealPreferringDelta(c.bytes, id: c.id, base: base.id, basePlaintext: base.bytes)
                XCTAssertEqual(used, base.id, "the fixture needs a delta here")
                try await w.add(sealed: sealed[...], type: .data, id: c.id, rawLength: c.bytes.count, base: used)
            } else {
                try await w.add(sealed: try repo.codec.seal(c.bytes, type: .data, id: c.id)[...], type: .data, id: c.id, rawLength: c.bytes.count, base: nil)
            }
        }
        try await w.flush(.data)
        return w.takeStored()[0]
    }

    /// A snapshot of one file whose content is `chunks`.
    func snapshot(_ repo: Repository, _ chunks: [Chunk]) async throws -> String {
        let node = Node(name: Array("f".utf8), kind: .file, size: UInt64(chunks.reduce(0) { $0 + $1.bytes.count }), content: ContentRef(ids: chunks.map(\.id)))
        let saver = BlobSaver(repo: repo)
        let root = try await saver.saveMetadata(.tree, Tree(nodes: [node]).encoded())
        try await saver.finish()
        return try await repo.saveSnapshot(Snapshot(timeNanos: 1_700_000_000_000_000_000, name: "f", host: "h", sourceKind: "files", root: root))
    }

    /// Chunk B is stored whole in pack X (next to much unused data) and as a
    /// delta against C in pack Y (next to C); D, which a snapshot uses, is a
    /// delta against B. Y's used share is higher, but only X's whole copy of B
    /// can serve as D's base: prune must keep that one.
    func testABaseStoredWholeAndAsADeltaStaysWhole() async throws {
        let t = try await TestRepository.make()
        let repo = t.repo
        let c = chunk(pseudoRandomBytes(16384, seed: 7))
        let b = chunk(flipped(c.bytes, every: 2048, from: 0))
        let d = chunk(flipped(b.bytes, every: 2048, from: 1024))
        let filler = chunk(pseudoRandomBytes(200_000, seed: 8))
        let x = try await pack(repo, [(b, nil), (filler, nil)])
        let y = try await pack(repo, [(c, nil), (b, c)])
        let z = try await pack(repo, [(d, b)])
        try await repo.saveIndexDelta([x, y, z])
        let id = try await snapshot(repo, [d])

        let r = try await Pruner(repo: repo, options: PruneOptions()).run()
        XCTAssertGreaterThan(r.packsRepacked + r.packsDeleted, 0, "the filler is unused: prune has work")
        let fresh = try await t.reopen()
        let view = try await StoreIndexView.load(fresh)
        XCTAssertTrue(try view.storesWhole(b.id), "D's base B must stay indexed whole")
        XCTAssertTrue(try view.undecodableDeltas().isEmpty)
        let back = try await ContentReaderHarness.read(fresh, snapshot: id)
        XCTAssertEqual(back, d.bytes)
        let scrub = try await Checker(repo: fresh, options: { var o = ScrubOptions(); o.readData = true; return o }()).run()
        XCTAssertTrue(scrub.isClean, "\(scrub.packProblems) \(scrub.blobProblems)")
    }

    /// A pack that stays holds an unused delta whose base's pack goes: prune
    /// repacks it (dropping the delta) or, with no repack budget, keeps the
    /// base; either way the index names no undecodable delta, and a backup of
    /// that chunk afterwards is stored anew, not deduplicated against it.
    func testAnUnusedDeltaNeverOutlivesItsBase() async throws {
        for budget in [nil, UInt64(0)] as [UInt64?] {
            let t = try await TestRepository.make()
            let repo = t.repo
            let base = chunk(pseudoRandomBytes(16384, seed: 11))
            let delta = chunk(flipped(base.bytes, every: 4096, from: 3))
            let kept = chunk(pseudoRandomBytes(300_000, seed: 12))
            let a = try await pack(repo, [(base, nil)])
            let b = try await pack(repo, [(kept, nil), (delta, base)])
            try await repo.saveIndexDelta([a, b])
            let id = try await snapshot(repo, [kept])

            var o = PruneOptions()
            o.maxRepackBytes = budget
            let r = try await Pruner(repo: repo, options: o).run()
            let fresh = try await t.reopen()
            let view = try await StoreIndexView.load(fresh)
            XCTAssertTrue(try view.undecodableDeltas().isEmpty, "budget \(String(describing: budget)): \(r)")
            if budget == nil {
                XCTAssertEqual(r.packsRepackedForDeltas, 1, "\(r)")
                XCTAssertNil(try view.location(.init(id: delta.id, type: .data)), "the unused delta is dropped")
            } else {
                XCTAssertEqual(r.deltaBasesKept, 1, "\(r)")
                XCTAssertTrue(try view.storesWhole(base.id))
            }
            let back = try await ContentReaderHarness.read(fresh, snapshot: id)
            XCTAssertEqual(back, kept.bytes)
            // The index may be asked for the delta chunk: it is reusable only when decodable.
            let usable = try fresh.index.contains(delta.id, type: .data)
            if usable {
                let plain = try await fresh.readBlob(.data, delta.id)
                XCTAssertEqual(plain, delta.bytes)
            }
        }
    }

    /// A cache that names a delta whose base is gone does not offer it for
    /// dedup, and a copy stored again replaces it as the blob's location.
    func testDedupNeverReusesAnUndecodableDelta() async throws {
        let t = try await TestRepository.make()
        let repo = t.repo
        let base = chunk(pseudoRandomBytes(16384, seed: 21))
        let delta = chunk(flipped(base.bytes, every: 4096, from: 5))
        let b = try await pack(repo, [(delta, base)])
        try await repo.saveIndexDelta([b])   // the base was never stored
        XCTAssertFalse(try repo.index.contains(delta.id, type: .data))
        XCTAssertEqual(try repo.index.contains([delta.id], type: .data), [false])
        let saver = BlobSaver(repo: repo)
        XCTAssertTrue(try saver.claim(delta.id, type: .data), "a backup must store the chunk again")
        try await saver.add(sealed: try repo.codec.seal(delta.bytes, type: .data, id: delta.id), type: .data, id: delta.id, rawLength: delta.bytes.count)
        try await saver.finish()
        XCTAssertTrue(try repo.index.contains(delta.id, type: .data))
        XCTAssertNil(try repo.index.lookup(delta.id, type: .data)?.base, "the whole copy is the location used")
        let plain = try await repo.readBlob(.data, delta.id)
        XCTAssertEqual(plain, delta.bytes)
        // A fresh cache loading both index objects makes the same choice.
        let fresh = try await t.reopen()
        let again = try await fresh.readBlob(.data, delta.id)
        XCTAssertEqual(again, delta.bytes)
    }
}

/// Reads the one file of a snapshot made by `PruneDeltaRuleTests.snapshot`.
enum ContentReaderHarness {
    static func read(_ repo: Repository, snapshot id: String) async throws -> [UInt8] {
        let record = try repo.resolveSnapshot(id)
        let node = try await repo.loadTree(record.snapshot.root).nodes[0]
        var out: [UInt8] = []
        try await ContentReader(repo: repo, window: 4).read(node.content, sink: { out += $0 })
        return out
    }
}

@testable import CairnRepository
import CairnCrypto
import CairnFormat
import CairnStorage
import CairnTestSupport
import Foundation
import Synchronization
import XCTest

/// The one pack writer (backup's `BlobSaver` and prune's repacking both write through it):
/// packs split at the pack size, one pack type per pack, every pack readable back from the
/// store, and a pack recorded only after its put returned.
final class PackWriterTests: XCTestCase {
    final class Recorded: Sendable {
        let packs = Mutex<[IndexedPack]>([])
        let features = Mutex<[ChunkID]>([])
    }

    func testPacksSplitAtThePackSizeAndReadBack() async throws {
        let t = try await TestRepository.make(packSize: 64 << 10)
        let repo = t.repo
        let recorded = Recorded()
        let writer = PackWriter(repo: repo, uploadsInFlight: 2, keepsStored: true) { pack, features in
            recorded.packs.withLock { $0.append(pack) }
            recorded.features.withLock { $0 += features.map(\.id) }
        }
        var blobs: [ChunkID: (BlobType, [UInt8])] = [:]
        for i in 0..<10 {
            let plain = RandomBytes.make(20_000, seed: UInt64(i))
            let id = SHA256.id(plain)
            blobs[id] = (.data, plain)
            try await writer.add(sealed: try repo.codec.seal(plain, type: .data, id: id)[...], type: .data, id: id,
                                 rawLength: plain.count, base: nil, features: i == 3 ? [1, 2, 3] : nil)
        }
        let tree = Array("a tree's bytes".utf8)
        blobs[SHA256.id(tree)] = (.tree, tree)
        try await writer.add(sealed: try repo.codec.seal(tree, type: .tree, id: SHA256.id(tree))[...], type: .tree,
                             id: SHA256.id(tree), rawLength: tree.count, base: nil)
        try await writer.flushAll()
        try await writer.waitForUploads()

        let stored = writer.takeStored()
        XCTAssertEqual(Set(stored), Set(recorded.packs.withLock { $0 }), "every stored pack was recorded, once")
        XCTAssertEqual(stored.count, writer.packsWritten)
        XCTAssertEqual(stored.filter { $0.type == .metadata }.count, 1, "the tree went into a metadata pack of its own")
        // 20 kB sealed blobs, 64 KiB packs: a pack is finished at the blob that takes it past the size.
        XCTAssertEqual(stored.filter { $0.type == .data }.count, 3)
        XCTAssertEqual(recorded.features.withLock { $0 }.count, 1, "the one blob given super-features")
        XCTAssertTrue(writer.takeStored().isEmpty, "taken once")

        var seen = 0
        for pack in stored {
            let size = try await t.store.size(ObjectKey(.data, pack.id.hex))
            XCTAssertEqual(size, pack.size)
            let bytes = try await t.store.get(ObjectKey(.data, pack.id.hex))
            XCTAssertEqual(SHA256.hash(bytes), pack.id.bytes, "a pack is named by the SHA-256 of its bytes")
            let header = try await repo.readPackHeader(pack.id, size: pack.size)
            XCTAssertEqual(header.type, pack.type)
            XCTAssertEqual(header.entries, pack.entries)
            for e in header.entries {
                guard let (type, plain) = blobs[e.id] else { return XCTFail("a blob nobody added: \(e.id.hex)") }
                XCTAssertEqual(e.type, type)
                let sealed = Array(bytes[Int(e.offset)..<Int(e.offset) + Int(e.length)])
                XCTAssertEqual(try repo.codec.open(sealed, type: e.type, id: e.id, rawLength: e.rawLength, base: nil), plain)
                seen += 1
            }
        }
        XCTAssertEqual(seen, blobs.count)
    }

    /// The store refuses the second pack: the first is recorded, the second is not, the
    /// error reaches the caller, and abandoning leaves no staging file.
    func testAFailedPutIsNotRecorded() async throws {
        let t = try await TestRepository.make(packSize: 64 << 10)
        let faulty = FaultInjectingStore(t.store, allowPuts: 1)
        let cache = TestCacheDirectory.make()
        let repo = try await Repository.open(store: faulty, passphrase: TestRepository.passphrase, cacheBase: cache)
        let recorded = Recorded()
        let writer = PackWriter(repo: repo) { pack, _ in recorded.packs.withLock { $0.append(pack) } }
        var failure: Error?
        do {
            for i in 0..<4 {
                let plain = RandomBytes.make(40_000, seed: UInt64(100 + i))
                let id = SHA256.id(plain)
                try await writer.add(sealed: try repo.codec.seal(plain, type: .data, id: id)[...], type: .data, id: id,
                                     rawLength: plain.count, base: nil)
            }
            try await writer.flushAll()
        } catch { failure = error }
        XCTAssertNotNil(failure, "the refused put reaches the caller")
        await writer.abandon()
        let packs = recorded.packs.withLock { $0 }
        XCTAssertEqual(packs.count, 1)
        XCTAssertEqual(writer.packsWritten, 1)
        for p in packs {
            let size = try await t.store.size(ObjectKey(.data, p.id.hex))
            XCTAssertNotNil(size, "recorded means stored")
        }
        let staged = (try? FileManager.default.contentsOfDirectory(atPath: "\(repo.cacheDirectory)/staging")) ?? []
        XCTAssertEqual(staged, [], "no staging file left behind")
    }
}

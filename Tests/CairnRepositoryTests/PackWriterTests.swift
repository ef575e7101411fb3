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
        let writer = PackWriter(repo: repo, uploadsInFlight: 2, keepsStored: true) { stored in
            recorded.packs.withLock { $0 += stored.map(\.pack) }
            recorded.features.withLock { $0 += stored.flatMap(\.features).map(\.id) }
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

    /// On a local store finished packs wait in tmp/ and are stored a batch at a time
    /// (`preferredFileBatch`), assembled ones and ones stored whole alike: each batch recorded
    /// once, only when every pack of it is in place, nothing left in tmp/; an abandoned
    /// writer removes the batch it had not stored.
    func testALocalStoreGetsPacksInBatchesRecordedOnlyOnceStored() async throws {
        let dir = try makeTempDir("packwriter")
        defer { try? FileManager.default.removeItem(at: dir) }
        let local = LocalStore(root: dir.path + "/repo")
        let t = try await TestRepository.make(store: local, packSize: 64 << 10)
        let repo = t.repo
        let batches = Mutex<[[IndexedPack]]>([])
        let notInPlace = Mutex<[PackID]>([])
        let writer = PackWriter(repo: repo, uploadsInFlight: 2, keepsStored: true) { stored in
            for p in stored.map(\.pack) where !FileManager.default.fileExists(atPath: local.localPath(ObjectKey(.data, p.id.hex)) ?? "") {
                notInPlace.withLock { $0.append(p.id) }
            }
            batches.withLock { $0.append(stored.map(\.pack)) }
        }
        for i in 0..<20 {
            let plain = RandomBytes.make(40_000, seed: UInt64(300 + i))
            let id = SHA256.id(plain)
            try await writer.add(sealed: try repo.codec.seal(plain, type: .data, id: id)[...], type: .data, id: id, rawLength: plain.count, base: nil)
        }
        // A pack finished elsewhere, stored whole (as `cairn copy` does between repositories sharing keys).
        let other = try await TestRepository.make(packSize: 64 << 10)
        let otherWriter = PackWriter(repo: other.repo, keepsStored: true)
        let plain = RandomBytes.make(30_000, seed: 999)
        try await otherWriter.add(sealed: try other.repo.codec.seal(plain, type: .data, id: SHA256.id(plain))[...], type: .data,
                                  id: SHA256.id(plain), rawLength: plain.count, base: nil)
        try await otherWriter.flushAll()
        let whole = try XCTUnwrap(otherWriter.takeStored().first)
        let wholeBytes = try await other.store.get(ObjectKey(.data, whole.id.hex))
        try await writer.storeFinished(wholeBytes, whole)
        try await writer.flushAll()
        try await writer.waitForUploads()

        let stored = writer.takeStored()
        let recorded = batches.withLock { $0 }
        XCTAssertEqual(stored.count, 11, "20 blobs of 40 kB two to a 64 KiB pack, and the whole one")
        XCTAssertEqual(Set(recorded.joined()), Set(stored), "every stored pack recorded, once")
        XCTAssertEqual(recorded.joined().count, stored.count)
        XCTAssertEqual(recorded.map(\.count).sorted(), [stored.count - local.preferredFileBatch, local.preferredFileBatch], "recorded a batch at a time (two run at once)")
        XCTAssertEqual(notInPlace.withLock { $0 }, [], "recorded only once in place")
        let copied = try await local.get(ObjectKey(.data, whole.id.hex))
        XCTAssertEqual(copied, wholeBytes, "the pack stored whole is byte for byte the source's")
        for pack in stored {
            let bytes = try await local.get(ObjectKey(.data, pack.id.hex))
            XCTAssertEqual(SHA256.hash(bytes), pack.id.bytes)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/repo/tmp"), [], "nothing left staged")

        // Abandoned with a batch waiting: nothing of it stored or left in tmp/.
        let third = PackWriter(repo: repo, uploadsInFlight: 2, keepsStored: true)
        for i in 0..<4 {
            let plain = RandomBytes.make(40_000, seed: UInt64(500 + i))
            try await third.add(sealed: try repo.codec.seal(plain, type: .data, id: SHA256.id(plain))[...], type: .data,
                                id: SHA256.id(plain), rawLength: plain.count, base: nil)
        }
        await third.abandon()
        XCTAssertEqual(third.takeStored(), [])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/repo/tmp"), [], "the waiting batch removed")
        let listed = try await local.list(.data)
        XCTAssertEqual(listed.count, stored.count, "none of the abandoned packs stored")
    }

    /// The store refuses the second pack: the first is recorded, the second is not, the
    /// error reaches the caller, and abandoning leaves no staging file.
    func testAFailedPutIsNotRecorded() async throws {
        let t = try await TestRepository.make(packSize: 64 << 10)
        let faulty = FaultInjectingStore(t.store, allowPuts: 1)
        let cache = NSTemporaryDirectory() + "cairn-cache-\(UUID().uuidString)"
        let repo = try await Repository.open(store: faulty, passphrase: TestRepository.passphrase, cacheBase: cache)
        let recorded = Recorded()
        let writer = PackWriter(repo: repo) { stored in recorded.packs.withLock { $0 += stored.map(\.pack) } }
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

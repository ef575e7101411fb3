@testable import CairnEngine
@testable import CairnRepository
import CairnCrypto
import CairnFormat
import CairnStorage
import CairnTestSupport
import Foundation
import XCTest

final class KeysAndIndexTests: XCTestCase {
    func testKeyManagement() async throws {
        let t = try await TestRepository.make()
        let keys = KeyManager(repo: t.repo)
        let fast = ScryptParameters(logN: 10, r: 8, p: 1)
        let second = try await keys.add(passphrase: Array("second".utf8), parameters: fast)
        let list = try await keys.list()
        XCTAssertEqual(list.count, 2)
        let viaSecond = try await Repository.open(store: t.store, passphrase: Array("second".utf8), cacheBase: t.cache)
        XCTAssertEqual(viaSecond.keys.master, t.repo.keys.master)
        XCTAssertEqual(viaSecond.keyID, second)
        // Changing the second passphrase rewrites only its key file.
        let dataBefore = try await t.store.list(.data).count
        _ = try await KeyManager(repo: viaSecond).changePassphrase(to: Array("third".utf8), parameters: fast)
        let dataAfter = try await t.store.list(.data).count
        XCTAssertEqual(dataBefore, dataAfter)
        do { _ = try await Repository.open(store: t.store, passphrase: Array("second".utf8), cacheBase: t.cache); XCTFail() } catch {}
        _ = try await Repository.open(store: t.store, passphrase: Array("third".utf8), cacheBase: t.cache)
        // Remove the original: it opened `keys`' repository, so only with force; the last one cannot go.
        do { _ = try await keys.remove(t.repo.keyID); XCTFail("removed the key in use without force") } catch let e as CairnError {
            guard case .removingCurrentKey = e else { return XCTFail("\(e)") }
        }
        _ = try await keys.remove(t.repo.keyID, force: true)
        let remaining = try await keys.list()
        XCTAssertEqual(remaining.count, 1)
        do { _ = try await keys.remove(remaining[0].id, force: true); XCTFail() } catch let e as CairnError {
            guard case .lastKey = e else { return XCTFail("\(e)") }
        }
    }

    func testIndexRebuildFromStoreAlone() async throws {
        let mem = MemoryStore()
        let t = try await TestRepository.make(store: mem, packSize: 1 << 16)
        let data = pseudoRandomBytes(500_000, seed: 9)
        let r = try await backupStream(t.repo, data)
        let firstChunk = try await t.repo.loadTree(r.snapshot.root).nodes[0].content.ids[0]
        // Lose the cache and every index delta: only packs and snapshots remain.
        for k in try await mem.list(.index) { try await mem.delete(k) }
        let fresh = try await t.reopen()
        XCTAssertFalse(try fresh.index.contains(firstChunk, type: .data))
        let result = try await IndexRebuilder(repo: fresh).rebuild()
        XCTAssertGreaterThan(result.packs, 0)
        XCTAssertEqual(result.reindexedPacks, result.packs)
        XCTAssertEqual(result.snapshots, 1)
        let restored = try await restoreStream(fresh, r.snapshotID)
        XCTAssertTrue(restored == data)
        // The rebuilt index was written back: yet another machine sees it without a rebuild.
        let third = try await t.reopen()
        let restoredAgain = try await restoreStream(third, r.snapshotID)
        XCTAssertTrue(restoredAgain == data)
    }

    /// A rebuilt cache records which index object names each pack, as a sync does: when another
    /// machine merges one index object into a new one, the next sync forgets only what the gone
    /// object alone named (and loads it again from the new one), not every pack of the cache.
    func testARebuiltCacheKeepsItsLocationsWhenAnIndexObjectIsMerged() async throws {
        let mem = MemoryStore()
        let t = try await TestRepository.make(store: mem, packSize: 1 << 16)
        let first = pseudoRandomBytes(300_000, seed: 21), second = pseudoRandomBytes(300_000, seed: 22)
        let a = try await backupStream(t.repo, first, name: "a")
        let b = try await backupStream(t.repo, second, name: "b")
        let objects = try await mem.list(.index).sorted(by: { $0.name < $1.name })
        XCTAssertGreaterThan(objects.count, 1)

        let rebuilt = try await t.reopen()
        let result = try await IndexRebuilder(repo: rebuilt).rebuild()
        XCTAssertEqual(result.reindexedPacks, 0)
        XCTAssertEqual(result.headersRead, 0)

        // Another machine replaces the first index object by a copy of its content (a merge).
        let other = try await t.reopen()
        let merged = objects[0]
        let sealed = try await mem.get(merged)
        let delta = try IndexDelta.decode(try other.keys.openObject(.index, sealed))
        _ = try await other.saveIndexDelta(delta.packs, supersedes: [try XCTUnwrap(IndexObjectID(hex: merged.name))])
        try await mem.delete(merged)

        // The cache itself, before any read could reload it after a miss: a backup's dedup asks it
        // and stores again what it does not find.
        try await rebuilt.sync()
        let everyBlob = try await StoreIndexSnapshot.load(other).blobs.keys
        XCTAssertGreaterThan(everyBlob.count, 10)
        for e in everyBlob {
            XCTAssertTrue(try rebuilt.index.contains(e.id, type: e.type), "blob \(e.id.short) lost from the rebuilt cache")
        }
        let restoredA = try await restoreStream(rebuilt, a.snapshotID)
        let restoredB = try await restoreStream(rebuilt, b.snapshotID)
        XCTAssertTrue(restoredA == first && restoredB == second)
    }

    /// format-spec/vectors/crypto.json, computed independently with Python's hashlib and `cryptography`.
    func testCryptoVectors() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("format-spec/vectors/crypto.json")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        func hex(_ s: Any?) -> [UInt8] { Hex.decode(s as! String)! }
        let keys = MasterKeys(master: hex(json["master_key"]))
        XCTAssertEqual(keys.blobRoot, hex(json["blob_root_key"]))
        XCTAssertEqual(keys.metadata, hex(json["metadata_key"]))
        XCTAssertEqual(String(keys.chunkerSeed), json["chunker_seed"] as? String)

        let blob = json["blob"] as! [String: Any]
        let chunk = hex(blob["chunk"])
        let id = SHA256.id(chunk)
        XCTAssertEqual(id.bytes, hex(blob["id"]))
        XCTAssertEqual(keys.blobKey(type: .data, id: id), hex(blob["key"]))
        XCTAssertEqual(KeyLabels.blobAAD(type: .data, id: id), hex(blob["aad"]))
        let sealed = try AESGCM.seal([BlobEncoding.raw.rawValue] + chunk, key: keys.blobKey(type: .data, id: id),
                                     nonce: hex(blob["nonce"]), aad: KeyLabels.blobAAD(type: .data, id: id))
        XCTAssertEqual(sealed, hex(blob["sealed"]))
        XCTAssertEqual(try BlobCodec(keys: keys, level: 3).open(sealed, type: .data, id: id, rawLength: UInt32(chunk.count)), chunk)

        let env = json["snapshot_envelope"] as! [String: Any]
        XCTAssertEqual(try keys.openObject(.snapshot, hex(env["object"])), hex(env["body"]))

        let s = json["scrypt"] as! [String: Any]
        let kek = try Scrypt.derive(passphrase: hex(s["passphrase"]), salt: hex(s["salt"]),
                                    parameters: ScryptParameters(logN: UInt8(s["logN"] as! Int), r: UInt32(s["r"] as! Int), p: UInt32(s["p"] as! Int)))
        XCTAssertEqual(kek, hex(s["kek"]))

        // A version-2 key file (after one rotation): the keyring of generations 1 and 0.
        let rotated = json["rotated_key_file"] as! [String: Any]
        let file = try KeyFile.decode(hex(rotated["key_file"]))
        XCTAssertEqual(file.version, KeyFile.keyringVersion)
        XCTAssertEqual(file.header(), hex(rotated["header"]))
        XCTAssertEqual(file.encoded(), hex(rotated["key_file"]), "one encoding")
        let ring = try XCTUnwrap(Keyring.unwrap(file, kek: kek))
        XCTAssertEqual(ring.generations.map(\.number), [1, 0])
        XCTAssertEqual(ring.generations.map(\.keys.master), [hex(rotated["master_generation_1"]), hex(json["master_key"])])
        XCTAssertEqual(WrappedKeyring(entries: ring.generations.map { .init(generation: $0.number, master: $0.keys.master) }).encoded(), hex(rotated["keyring"]))
        XCTAssertNil(Keyring.unwrap(file, kek: [UInt8](repeating: 7, count: 32)), "a wrong passphrase opens nothing")
        // Objects of either generation open with it; the chunker seed stays generation 0's.
        let env1 = rotated["snapshot_envelope_generation_1"] as! [String: Any]
        XCTAssertEqual(try ring.openObject(.snapshot, hex(env1["object"])), hex(env1["body"]))
        XCTAssertEqual(try ring.openObject(.snapshot, hex(env["object"])), hex(env["body"]))
        XCTAssertThrowsError(try keys.openObject(.snapshot, hex(env1["object"])), "generation 0 alone cannot open what generation 1 sealed")
        XCTAssertEqual(String(ring.chunkerSeed), json["chunker_seed"] as? String)
        // A version-1 reader's view of it: a newer format, never a wrong passphrase.
        var asV1 = hex(rotated["key_file"]); asV1[4] = 3
        XCTAssertThrowsError(try KeyFile.decode(asV1)) { XCTAssertTrue("\($0)".contains("version 3"), "\($0)") }
    }
}


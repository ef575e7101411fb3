@testable import CairnEngine
@testable import CairnRepository
import CairnFormat
import CairnStorage
import CairnTestSupport
import XCTest

final class IntegrityTests: XCTestCase {
    let small = [ChunkerProfile(name: "dump", minimumSize: 1024, averageSize: 4096, maximumSize: 16384)]

    /// Flips one byte inside each data pack in turn: restore must fail, never return wrong bytes.
    func testCorruptedPackIsDetected() async throws {
        let mem = MemoryStore()
        let t = try await TestRepository.make(store: mem, profiles: small)
        let data = pseudoRandomBytes(300_000, seed: 1)
        let r = try await backupStream(t.repo, data)
        let packs = try await mem.list(.data)
        var dataPacks: [ObjectKey] = []
        for p in packs {
            let size = try await mem.size(p)!
            if try await t.repo.readPackHeader(PackID(hex: p.name)!, size: size).type == .data { dataPacks.append(p) }
        }
        XCTAssertFalse(dataPacks.isEmpty)
        for offset in [0, 20, 5000] {
            let victim = dataPacks[0]
            mem.tamper(victim) { var b = $0; b[offset] ^= 0x40; return b }
            let fresh = try await t.reopen()
            do {
                let back = try await restoreStream(fresh, r.snapshotID)
                XCTFail("restore of a corrupted pack returned \(back.count) bytes")
            } catch let e as CairnError {
                guard case .restoreFailed(_, let path, let reason) = e else { return XCTFail("\(e)") }
                XCTAssertEqual(path, "stream")
                XCTAssertTrue(reason.contains("damaged"), reason)
            }
            mem.tamper(victim) { var b = $0; b[offset] ^= 0x40; return b }
        }
        // Undamaged again: restores.
        let reopened = try await t.reopen()
        let ok = try await restoreStream(reopened, r.snapshotID)
        XCTAssertTrue(ok == data)
    }

    func testTruncatedAndMissingPacks() async throws {
        let mem = MemoryStore()
        let t = try await TestRepository.make(store: mem, profiles: small)
        let r = try await backupStream(t.repo, pseudoRandomBytes(200_000, seed: 2))
        let firstChunk = try await t.repo.loadTree(r.snapshot.root).nodes[0].content.ids[0]
        let loc = try XCTUnwrap(try t.repo.index.lookup(firstChunk, type: .data))
        let key = ObjectKey(.data, loc.pack.hex)
        let original = try await mem.get(key)
        mem.tamper(key) { Array($0.prefix(Int(loc.offset) + 3)) }
        await assertRestoreFails(t.repo, r.snapshotID, contains: "truncated")
        try await mem.delete(key)
        await assertRestoreFails(t.repo, r.snapshotID, contains: "missing")
        try await mem.put(key, original)
        _ = try await restoreStream(t.repo, r.snapshotID)
    }

    func assertRestoreFails(_ repo: Repository, _ id: String, contains: String, file: StaticString = #filePath, line: UInt = #line) async {
        do {
            _ = try await restoreStream(repo, id)
            XCTFail("restore succeeded", file: file, line: line)
        } catch {
            XCTAssertTrue(describe(error).contains(contains), describe(error), file: file, line: line)
        }
    }

    func testWrongPassphraseAndNotARepository() async throws {
        let t = try await TestRepository.make()
        do {
            _ = try await Repository.open(store: t.store, passphrase: Array("nope".utf8), cacheBase: t.cache)
            XCTFail()
        } catch let e as CairnError {
            guard case .wrongPassphrase = e else { return XCTFail("\(e)") }
        }
        do {
            _ = try await Repository.open(store: MemoryStore(), passphrase: TestRepository.passphrase, cacheBase: t.cache)
            XCTFail()
        } catch let e as CairnError {
            guard case .notARepository = e else { return XCTFail("\(e)") }
        }
        do {
            _ = try await Repository.create(store: t.store, passphrase: TestRepository.passphrase, cacheBase: t.cache)
            XCTFail()
        } catch let e as CairnError {
            guard case .alreadyARepository = e else { return XCTFail("\(e)") }
        }
    }

    func testUnknownFormatVersionIsReportedBeforeKeys() async throws {
        let mem = MemoryStore()
        _ = try await TestRepository.make(store: mem)
        mem.tamper(.config) { var b = $0; b[4] = 9; return b }
        do {
            _ = try await Repository.open(store: mem, passphrase: TestRepository.passphrase, cacheBase: NSTemporaryDirectory())
            XCTFail()
        } catch let e as FormatError {
            XCTAssertEqual(e, .unsupportedVersion(what: "repository config", version: 9, supported: Int(ObjectEnvelope.newestFormatVersion)))
        }
    }

    func testDiskFullFailsCleanlyAndTheNextBackupWorks() async throws {
        let mem = MemoryStore()
        let t = try await TestRepository.make(store: mem, profiles: small, packSize: 1 << 16)
        let before = try await mem.list(.snapshots).count
        let faulty = FaultInjectingStore(mem, allowPuts: 3)
        let broken = try await Repository.open(store: faulty, passphrase: TestRepository.passphrase, cacheBase: t.cache)
        let data = pseudoRandomBytes(1_000_000, seed: 3)
        do {
            _ = try await backupStream(broken, data)
            XCTFail("backup into a full store succeeded")
        } catch let e as StorageError {
            XCTAssertEqual(e, .diskFull("injected"))
        }
        let after = try await mem.list(.snapshots).count
        XCTAssertEqual(after, before, "no snapshot may be committed")
        // Space is back: the same cache and store accept the backup, reusing the packs that made it.
        let healed = try await Repository.open(store: mem, passphrase: TestRepository.passphrase, cacheBase: t.cache)
        let r = try await backupStream(healed, data)
        XCTAssertLessThan(r.newBytes, UInt64(data.count), "packs stored before the failure should be reused")
        let reopened = try await t.reopen()
        let back = try await restoreStream(reopened, r.snapshotID)
        XCTAssertTrue(back == data)
    }
}

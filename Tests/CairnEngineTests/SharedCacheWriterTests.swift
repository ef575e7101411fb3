@testable import CairnEngine
@testable import CairnRepository
import CairnCrypto
import CairnFormat
@testable import CairnIndex
import CairnStorage
import CairnTestSupport
import Foundation
import XCTest

/// Writers sharing one cache (one per host user: PostgreSQL's archive_command
/// processes and backups) change its rows under each other. Whatever another
/// process did to the cache between a writer's pack store and its checkpoint,
/// the writer names every pack it stored in an index object in the store
/// before it commits: a pack may be named twice, never by none (issue 16: a
/// long haul of four seeders on one empty cache left 94 packs of 47 committed
/// WAL snapshots named by no index object).
final class SharedCacheWriterTests: XCTestCase {
    /// What another process sharing the cache does to it between the store and the checkpoint.
    enum CacheChange: CaseIterable {
        /// Empties it (a process that took the cache for another schema, an index rebuild).
        case emptied
        /// Marks the packs named by an index object that the store does not hold.
        case markedByAnObjectNotStored
    }

    func testAWriterNamesThePacksItStoredWhateverTheSharedCacheSays() async throws {
        for change in CacheChange.allCases {
            let mem = MemoryStore()
            let repo = try await MetadataCompactionTests.make(mem)
            // The same cache file, opened again: another process's connection to it.
            let other = try RepositoryIndex(path: repo.index.path)
            let saver = BlobSaver(repo: repo)
            var chunks: [ChunkID] = []
            // 64 KiB packs: several full packs stored before the checkpoint, one partial at finish.
            for i in 0..<12 {
                let plain = pseudoRandomBytes(16 << 10, seed: UInt64(i) &+ 100)
                let id = SHA256.id(plain)
                XCTAssertTrue(try saver.claim(id, type: .data))
                try await saver.add(sealed: try repo.codec.seal(plain, type: .data, id: id), type: .data, id: id, rawLength: plain.count)
                chunks.append(id)
            }
            try await saver.waitForUploads()
            let stored = try await mem.list(.data).map(\.name)
            XCTAssertGreaterThanOrEqual(stored.count, 2, "full packs are stored before the checkpoint")
            XCTAssertEqual(Set(try repo.index.unindexedPackIDs().map(\.hex)), Set(stored), "the cache lists them as named by none")
            switch change {
            case .emptied:
                try other.reset()
            case .markedByAnObjectNotStored:
                let packs = try other.unindexedPacks()
                try other.markIndexed(packs.map(\.id), indexObject: String(repeating: "ab", count: 32))
            }
            try await saver.finish()

            // Every pack in the store is named by an index object in the store.
            let unnamed = try await packsNamedByNoIndexObject(repo, in: mem)
            XCTAssertEqual(unnamed, [], "\(change): packs the writer stored that no index object names")
            // And a new machine finds every blob the writer stored.
            let fresh = try await MetadataCompactionTests.open(mem)
            try await fresh.sync()
            for id in chunks {
                let found = try fresh.index.lookup(id, type: .data)
                XCTAssertNotNil(found, "\(change): blob \(id.short) not in the store's index")
            }
        }
    }

    /// Packs a caller stores itself and hands over with `recordStoredPacks` (a copy's whole
    /// packs between local stores) are named from the saver's own record too: the cache emptied
    /// by another process between their recording and the checkpoint does not leave them unnamed.
    func testPacksRecordedByTheCallerAreNamedWhateverTheSharedCacheSays() async throws {
        let (mem, repo, other, packs) = try await unnamedPacks(seed: 300)

        let saver = BlobSaver(repo: repo)
        for pack in packs { saver.reserve(pack) }
        try saver.recordStoredPacks(packs)
        try other.reset()
        try await saver.checkpoint()
        let unnamed = try await packsNamedByNoIndexObject(repo, in: mem)
        XCTAssertEqual(unnamed, [], "packs recorded by the caller that no index object names")
    }

    /// Packs handed over with `nameStoredPacks` (a copy's batches, named while the next batch is
    /// staged) are in an index object once it returns, before any checkpoint, whatever the shared
    /// cache says afterwards; the saver's checkpoint then does not name them a second time.
    func testPacksNamedByTheCallerAreInAnIndexObjectAtOnce() async throws {
        let (mem, repo, other, packs) = try await unnamedPacks(seed: 700)

        let saver = BlobSaver(repo: repo)
        for pack in packs { saver.reserve(pack) }
        try await saver.nameStoredPacks(packs)
        try other.reset()
        let unnamed = try await packsNamedByNoIndexObject(repo, in: mem)
        XCTAssertEqual(unnamed, [], "packs named by the caller that no index object names before a checkpoint")
        try await saver.checkpoint()
        let times = try await timesNamed(repo)
        for pack in packs { XCTAssertEqual(times[pack.id.hex], 1, "pack \(pack.id.hex.prefix(12)) named once") }
        XCTAssertEqual(saver.currentStats.packsWritten, packs.count)
    }

    /// Packs in a new repository's store, made by a saver that never names them (as a copy stages
    /// its packs), with the shared cache then emptied by "another process" (`other`).
    private func unnamedPacks(seed: UInt64) async throws -> (MemoryStore, Repository, RepositoryIndex, [IndexedPack]) {
        let mem = MemoryStore()
        let repo = try await MetadataCompactionTests.make(mem)
        let other = try RepositoryIndex(path: repo.index.path)
        let stager = BlobSaver(repo: repo)
        for i in 0..<12 {
            let plain = pseudoRandomBytes(16 << 10, seed: UInt64(i) &+ seed)
            let id = SHA256.id(plain)
            XCTAssertTrue(try stager.claim(id, type: .data))
            try await stager.add(sealed: try repo.codec.seal(plain, type: .data, id: id), type: .data, id: id, rawLength: plain.count)
        }
        try await stager.waitForUploads()
        let packs = try repo.index.unindexedPacks()
        XCTAssertGreaterThanOrEqual(packs.count, 2)
        try other.reset()
        return (mem, repo, other, packs)
    }
}

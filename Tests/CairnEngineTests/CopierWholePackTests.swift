@testable import CairnEngine
@testable import CairnRepository
import CairnCrypto
import CairnFormat
import CairnStorage
import CairnTestSupport
import Foundation
import XCTest

/// `Copier` into a repository that shares the source's master keys
/// (`cairn init --copy-keys-from`) copies whole packs as they are (issue 16.5),
/// and only where that is safe: packs whose blobs the destination lacks,
/// whose bytes hash to their id, and whose deltas have their bases.
final class CopierWholePackTests: XCTestCase {
    private func replica(of source: Repository, shareKeys: Bool, store: MemoryStore = MemoryStore()) async throws -> Repository {
        var options = Repository.CreateOptions()
        options.scrypt = ScryptParameters(logN: 10, r: 8, p: 1)
        options.packSize = 1 << 20
        options.profiles = source.config.profiles
        if shareKeys {
            options.keyring = source.keys
        } else {
            options.chunkerSeed = source.chunkerSeed
        }
        return try await Repository.create(store: store, passphrase: Array("replica".utf8),
                                           cacheBase: TestCacheDirectory.make(), options: options)
    }

    private func packs(_ store: MemoryStore) async throws -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for key in try await store.list(.data) { out[key.name] = try await store.get(key) }
        return out
    }

    private func backupDays(_ repo: Repository, _ days: Range<Int>) async throws {
        for day in days {
            _ = try await backupStream(repo, dumpLikeStream(day: day), name: "pg")
            _ = try await backupStream(repo, pseudoRandomBytes(1_500_000, seed: UInt64(day)), name: "blob")
        }
    }

    /// Packs of `store` whose names are also in `other`, byte for byte alike; the count of names shared.
    private func sharedPacksAlike(_ store: [String: [UInt8]], _ other: [String: [UInt8]]) -> Int {
        var shared = 0
        for (name, bytes) in store where other[name] != nil {
            XCTAssertTrue(other[name] == bytes, "pack \(name.prefix(8)) copied as it is")
            shared += 1
        }
        return shared
    }

    func testAReplicaSharingTheKeysGetsTheSourcePacksByteForByteAndRestores() async throws {
        let sourceStore = MemoryStore()
        let source = try await TestRepository.make(store: sourceStore)
        try await backupDays(source.repo, 0..<3)
        let replicaStore = MemoryStore()
        let replica = try await replica(of: source.repo, shareKeys: true, store: replicaStore)
        let copier = try Copier(source: source.repo, destination: replica)
        XCTAssertTrue(copier.copiesWholePacks)
        let report = try await copier.copy(try source.repo.snapshots())
        XCTAssertEqual(report.copied.count, 6)

        // Source packs arrive as they are: every one, but for a pack with a delta whose base was
        // still being copied blob by blob (then its blobs are copied one by one, as without shared keys).
        let sourcePacks = try await packs(sourceStore), replicaPacks = try await packs(replicaStore)
        XCTAssertEqual(sharedPacksAlike(sourcePacks, replicaPacks), report.packsCopiedWhole)
        XCTAssertGreaterThanOrEqual(report.packsCopiedWhole, sourcePacks.count * 3 / 4, "\(report.packsCopiedWhole) of \(sourcePacks.count) packs copied whole")

        // A new machine opens the replica with its own passphrase, restores every day and scrubs it clean.
        let fresh = try await Repository.open(store: replicaStore, passphrase: Array("replica".utf8),
                                              cacheBase: TestCacheDirectory.make())
        for (day, record) in try fresh.snapshots(name: "pg").sorted(by: { $0.snapshot.timeNanos < $1.snapshot.timeNanos }).enumerated() {
            let back = try await restoreStream(fresh, record.id.hex)
            XCTAssertTrue(back == dumpLikeStream(day: day), "day \(day) restores from the replica")
        }
        var so = ScrubOptions(); so.readData = true
        let scrub = try await Checker(repo: fresh, options: so).run()
        XCTAssertTrue(scrub.isClean, "\(scrub.packProblems) \(scrub.blobProblems)")

        // The next day: only the new packs go, whole; nothing is stored twice.
        try await backupDays(source.repo, 3..<4)
        let again = try await Copier(source: source.repo, destination: replica).copy(try source.repo.snapshots())
        XCTAssertEqual(again.copied.count, 2)
        XCTAssertEqual(again.skipped.count, 6)
        let sourceAfter = try await packs(sourceStore), replicaAfter = try await packs(replicaStore)
        XCTAssertGreaterThan(again.packsCopiedWhole, 0)
        XCTAssertLessThanOrEqual(again.packsCopiedWhole, sourceAfter.count - sourcePacks.count, "only new packs go")
        XCTAssertEqual(sharedPacksAlike(sourceAfter, replicaAfter), report.packsCopiedWhole + again.packsCopiedWhole)
        let last = try XCTUnwrap(try replica.snapshots(name: "pg").max { $0.snapshot.timeNanos < $1.snapshot.timeNanos })
        let back = try await restoreStream(replica, last.id.hex)
        XCTAssertTrue(back == dumpLikeStream(day: 3))
    }

    func testWithoutDeltasEveryPackIsCopiedWholeAndNothingElse() async throws {
        let sourceStore = MemoryStore()
        let source = try await TestRepository.make(store: sourceStore)
        for day in 0..<3 { _ = try await backupStream(source.repo, pseudoRandomBytes(1_500_000, seed: UInt64(day)), name: "blob") }
        let replicaStore = MemoryStore()
        let replica = try await replica(of: source.repo, shareKeys: true, store: replicaStore)
        let report = try await Copier(source: source.repo, destination: replica).copy(try source.repo.snapshots())
        let sourcePacks = try await packs(sourceStore), replicaPacks = try await packs(replicaStore)
        XCTAssertEqual(report.packsCopiedWhole, sourcePacks.count)
        XCTAssertEqual(Set(replicaPacks.keys), Set(sourcePacks.keys), "the replica holds the source's packs and no other")
        XCTAssertEqual(sharedPacksAlike(sourcePacks, replicaPacks), sourcePacks.count)
        for (day, record) in try replica.snapshots().sorted(by: { $0.snapshot.timeNanos < $1.snapshot.timeNanos }).enumerated() {
            let back = try await restoreStream(replica, record.id.hex)
            XCTAssertTrue(back == pseudoRandomBytes(1_500_000, seed: UInt64(day)), "day \(day)")
        }
    }

    func testWithoutSharedKeysNoPackIsCopiedWhole() async throws {
        let source = try await TestRepository.make()
        try await backupDays(source.repo, 0..<1)
        let replica = try await replica(of: source.repo, shareKeys: false)
        let copier = try Copier(source: source.repo, destination: replica)
        XCTAssertTrue(copier.sameChunker)
        XCTAssertFalse(copier.copiesWholePacks)
        let report = try await copier.copy(try source.repo.snapshots())
        XCTAssertEqual(report.packsCopiedWhole, 0)
        XCTAssertGreaterThan(report.blobsCopied, 0)
    }

    func testADamagedPackIsNotCopiedWholeAndTheDamageIsReported() async throws {
        let sourceStore = MemoryStore()
        let source = try await TestRepository.make(store: sourceStore)
        _ = try await backupStream(source.repo, pseudoRandomBytes(1_500_000, seed: 7), name: "blob")
        // Flip one byte inside the largest data pack's blobs: its bytes no longer hash to its id.
        var largest: (key: ObjectKey, bytes: [UInt8])?
        for key in try await sourceStore.list(.data) {
            let bytes = try await sourceStore.get(key)
            if bytes.count > largest?.bytes.count ?? 0 { largest = (key, bytes) }
        }
        var (key, bytes) = try XCTUnwrap(largest)
        bytes[bytes.count / 3] ^= 0x40
        try await sourceStore.put(key, bytes)

        let replicaStore = MemoryStore()
        let replica = try await replica(of: source.repo, shareKeys: true, store: replicaStore)
        do {
            _ = try await Copier(source: source.repo, destination: replica).copy(try source.repo.snapshots())
            XCTFail("a copy of a damaged pack succeeded")
        } catch let CairnError.damagedBlob(_, pack, _) {
            XCTAssertEqual(pack, key.name, "the blob path names the damaged pack")
        }
        let copiedDamaged = try await replicaStore.size(key)
        XCTAssertNil(copiedDamaged, "the damaged pack is not in the replica")
        XCTAssertTrue(try replica.snapshots().isEmpty, "no snapshot is committed")
    }

    func testAPackIsCopiedWholeOnlyWhenTheReplicaLacksItsBlobsAndHasItsDeltaBases() async throws {
        let source = try await TestRepository.make()
        let replica = try await replica(of: source.repo, shareKeys: true)
        let copier = try Copier(source: source.repo, destination: replica)
        func entry(_ n: Int, base: Int? = nil) -> BlobEntry {
            BlobEntry(type: .data, id: SHA256.id(Array("chunk \(n)".utf8)), offset: UInt64(n * 100), length: 100, rawLength: 60,
                      base: base.map { SHA256.id(Array("chunk \($0)".utf8)) })
        }
        func pack(_ n: Int, _ entries: [BlobEntry]) -> IndexedPack {
            IndexedPack(id: SHA256.packID(Array("pack \(n)".utf8)), type: .data, size: 10_000, entries: entries)
        }
        XCTAssertEqual(try copier.wholeFit(pack(1, [entry(1), entry(2)])), .fits, "all new")
        XCTAssertEqual(try copier.wholeFit(pack(2, [entry(1), entry(2, base: 1)])), .fits, "the delta's base is whole in the same pack")
        XCTAssertEqual(try copier.wholeFit(pack(3, [entry(2, base: 1)])), .basesNotStored, "the delta's base is nowhere in the replica")
        XCTAssertEqual(try copier.wholeFit(pack(4, [])), .blobsPresent, "an empty pack")

        try replica.index.addPacks([pack(5, [entry(1)])], indexed: false)
        XCTAssertEqual(try copier.wholeFit(pack(3, [entry(2, base: 1)])), .fits, "the base is stored whole in the replica now")
        XCTAssertEqual(try copier.wholeFit(pack(1, [entry(1), entry(2)])), .blobsPresent, "the replica has one of its blobs already")
        try replica.index.addPacks([pack(6, [entry(3, base: 1)])], indexed: false)
        XCTAssertEqual(try copier.wholeFit(pack(7, [entry(4, base: 3)])), .basesNotStored, "the base is a delta in the replica")
    }
}

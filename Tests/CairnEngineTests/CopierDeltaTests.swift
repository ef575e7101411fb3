@testable import CairnEngine
@testable import CairnRepository
import CairnFormat
import CairnStorage
import CairnTestSupport
import Foundation
import XCTest

/// `Copier` into a repository with the same chunker copies blobs as they are
/// stored: a delta stays a delta, so a replica is as small as its source.
final class CopierDeltaTests: XCTestCase {
    /// A repository that cuts chunks exactly as `source` does (`cairn init --copy-chunker-from`).
    private func replica(of source: Repository, store: MemoryStore = MemoryStore()) async throws -> Repository {
        var options = Repository.CreateOptions()
        options.scrypt = ScryptParameters(logN: 10, r: 8, p: 1)
        options.packSize = 1 << 20
        options.chunkerSeed = source.chunkerSeed
        options.profiles = source.config.profiles
        return try await Repository.create(store: store, passphrase: Array("replica".utf8),
                                           cacheBase: TestCacheDirectory.make(), options: options)
    }

    private func storedBytes(_ store: MemoryStore) async throws -> UInt64 {
        var total: UInt64 = 0
        for key in try await store.list(.data) { total += try await store.size(key) ?? 0 }
        return total
    }

    func testACopyKeepsDeltasAndIsAsSmallAsItsSource() async throws {
        let sourceStore = MemoryStore()
        let source = try await TestRepository.make(store: sourceStore)
        var ids: [String] = []
        for day in 0..<3 { ids.append(try await backupStream(source.repo, dumpLikeStream(day: day), name: "pg").snapshotID) }
        let sourceView = try await StoreIndexSnapshot.load(source.repo)
        let sourceDeltas = sourceView.blobs.filter { $0.value.base != nil }
        XCTAssertGreaterThan(sourceDeltas.count, 10, "the source stores changed chunks as deltas")

        let replicaStore = MemoryStore()
        let replica = try await replica(of: source.repo, store: replicaStore)
        let copier = try Copier(source: source.repo, destination: replica)
        XCTAssertTrue(copier.sameChunker)
        // Three delta ids in memory, the rest through the scratch file: the second pass reads them back.
        copier.deltaIDsInMemory = 3
        let report = try await copier.copy(try source.repo.snapshots())
        XCTAssertEqual(report.copied.count, 3)

        // Every delta of the source is a delta against the same base in the replica, and bases are whole.
        let replicaView = try await StoreIndexSnapshot.load(replica)
        for (key, loc) in sourceDeltas {
            XCTAssertEqual(replicaView.blobs[key]?.base, loc.base, "chunk \(key.id.short) keeps its base")
        }
        for loc in replicaView.blobs.values where loc.base != nil {
            XCTAssertNil(replicaView.dataLocation(loc.base!)?.base, "chains stay one level deep")
        }
        // As small as the source (the same encoded blobs; pack headers and nonces differ).
        let a = try await storedBytes(sourceStore), b = try await storedBytes(replicaStore)
        XCTAssertLessThan(Double(b), Double(a) * 1.05, "replica \(b) bytes vs source \(a)")

        // A fresh machine restores every snapshot from the replica byte for byte, and a read-data scrub is clean.
        let fresh = try await Repository.open(store: replicaStore, passphrase: Array("replica".utf8),
                                              cacheBase: TestCacheDirectory.make())
        for (day, record) in try fresh.snapshots().sorted(by: { $0.snapshot.timeNanos < $1.snapshot.timeNanos }).enumerated() {
            let back = try await restoreStream(fresh, record.id.hex)
            XCTAssertTrue(back == dumpLikeStream(day: day), "day \(day) restores from the replica")
        }
        var so = ScrubOptions(); so.readData = true
        let scrub = try await Checker(repo: fresh, options: so).run()
        XCTAssertTrue(scrub.isClean, "\(scrub.blobProblems)")
    }

    func testADeltaWhoseBaseTheReplicaHoldsAsADeltaIsStoredWhole() async throws {
        let source = try await TestRepository.make()
        _ = try await backupStream(source.repo, dumpLikeStream(day: 0), name: "pg")
        let day1 = try await backupStream(source.repo, dumpLikeStream(day: 1), name: "pg")

        // The replica first holds a later day, then day 0 as deltas against it: many of the
        // source's bases are deltas there.
        let replica = try await replica(of: source.repo)
        _ = try await backupStream(replica, dumpLikeStream(day: 6), name: "other")
        _ = try await backupStream(replica, dumpLikeStream(day: 0), name: "pg-day0")
        let before = try await StoreIndexSnapshot.load(replica)

        let record = try source.repo.resolveSnapshot(day1.snapshotID)
        _ = try await (try Copier(source: source.repo, destination: replica)).copy([record])
        let sourceView = try await StoreIndexSnapshot.load(source.repo)
        let after = try await StoreIndexSnapshot.load(replica)
        var keptDelta = 0, storedWhole = 0
        for (key, loc) in sourceView.blobs where loc.base != nil && before.blobs[key] == nil {
            guard let copied = after.blobs[key] else { continue }
            if copied.base == nil {
                storedWhole += 1
                XCTAssertNotNil(before.dataLocation(loc.base!)?.base, "stored whole only because its base is a delta in the replica")
            } else {
                keptDelta += 1
            }
        }
        XCTAssertGreaterThan(storedWhole, 0, "some bases are deltas in the replica")
        XCTAssertGreaterThan(keptDelta, 0, "the others stay deltas")
        for loc in after.blobs.values where loc.base != nil {
            XCTAssertNil(after.dataLocation(loc.base!)?.base, "chains stay one level deep")
        }
        let copied = try XCTUnwrap(try replica.snapshots().first { $0.snapshot.name == "pg" })
        let back = try await restoreStream(replica, copied.id.hex)
        XCTAssertTrue(back == dumpLikeStream(day: 1))
    }

    func testACopyIntoAForeignRepositoryStoresDeltasOfItsOwn() async throws {
        let source = try await TestRepository.make()
        for day in 0..<3 { _ = try await backupStream(source.repo, dumpLikeStream(day: day), name: "pg") }
        let foreign = try await TestRepository.make()   // a chunker seed of its own
        let copier = try Copier(source: source.repo, destination: foreign.repo)
        XCTAssertFalse(copier.sameChunker)
        let report = try await copier.copy(try source.repo.snapshots())
        XCTAssertTrue(report.rechunked)
        XCTAssertEqual(report.copied.count, 3)
        // Re-chunked through the backup pipeline: the later days' changed chunks are deltas there too.
        let view = try await StoreIndexSnapshot.load(foreign.repo)
        XCTAssertGreaterThan(view.blobs.values.filter { $0.base != nil }.count, 10)
        for loc in view.blobs.values where loc.base != nil {
            XCTAssertNil(view.dataLocation(loc.base!)?.base, "chains stay one level deep")
        }
        let fresh = try await foreign.reopen()
        for (day, record) in try fresh.snapshots().sorted(by: { $0.snapshot.timeNanos < $1.snapshot.timeNanos }).enumerated() {
            let back = try await restoreStream(fresh, record.id.hex)
            XCTAssertTrue(back == dumpLikeStream(day: day), "day \(day) restores from the re-chunked copy")
        }
    }
}

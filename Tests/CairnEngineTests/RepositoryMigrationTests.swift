@testable import CairnEngine
import CairnFormat
import CairnStorage
import Foundation
import Synchronization
import XCTest

/// `RepositoryMigration` (cairn migrate, format-spec v2.md): a repository of
/// format 1 becomes one of format 2 in place, and stopped at any step it
/// still opens with every snapshot, and a rerun finishes.
final class RepositoryMigrationTests: XCTestCase {
    struct Stopped: Error {}

    /// A copy of every object of `mem`.
    static func clone(_ mem: MemoryStore) async throws -> MemoryStore {
        let copy = MemoryStore()
        for ns in [ObjectNamespace.keys, .index, .snapshots, .data, .forgotten, .locks] {
            for k in try await mem.list(ns) { try await copy.put(k, try await mem.get(k)) }
        }
        try await copy.put(.config, try await mem.get(.config))
        return copy
    }

    /// A repository of format 1 with 30 snapshots (2 of them forgotten: two forget records).
    static func formatOneRepository() async throws -> (MemoryStore, [String: [UInt8]]) {
        let mem = MemoryStore()
        let repo = try await MetadataCompactionTests.make(mem, formatVersion: 1)
        var data = try await MetadataCompactionTests.commit(repo, count: 32)
        for id in data.keys.sorted().prefix(2) {
            try await SnapshotForgetter(repo: repo).remove(try XCTUnwrap(SnapshotID(hex: id)))
            data[id] = nil
        }
        return (mem, data)
    }

    func testMigrationConvertsInPlace() async throws {
        let (mem, data) = try await Self.formatOneRepository()
        let singles = try await mem.list(.snapshots).count, records = try await mem.list(.forgotten).count
        XCTAssertEqual(singles, 30)
        XCTAssertEqual(records, 2)
        let repo = try await MetadataCompactionTests.open(mem)
        let result = try await RepositoryMigration(repo: repo).run()
        XCTAssertEqual(result.fromVersion, 1)
        XCTAssertEqual(result.toVersion, 2)
        XCTAssertEqual(result.snapshotsCatalogued, 30)
        XCTAssertEqual(result.singlesDeleted, 30)
        XCTAssertEqual(repo.formatVersion, 2)
        let config = try await mem.get(.config), objects = try await mem.list(.snapshots).count
        let versions = try await MetadataCompactionTests.envelopeVersions(mem, .snapshots)
        XCTAssertEqual(Array(config[4..<6]), [2, 0])
        XCTAssertEqual(objects, 1)
        XCTAssertEqual(versions, [2])

        let fresh = try await MetadataCompactionTests.open(mem)
        XCTAssertEqual(fresh.formatVersion, 2)
        XCTAssertEqual(Set(try fresh.snapshots().map(\.id.hex)), Set(data.keys), "every id kept")
        for (id, bytes) in data.sorted(by: { $0.key < $1.key }).prefix(3) {
            let back = try await restoreStream(fresh, id)
            XCTAssertEqual(back, bytes)
        }
        var o = ScrubOptions(); o.readData = true
        let report = try await Checker(repo: fresh, options: o).run()
        XCTAssertTrue(report.isClean, "\(report.objectProblems)")
        // Again: nothing left to do.
        let again = try await RepositoryMigration(repo: fresh).run()
        XCTAssertEqual(again.fromVersion, 2)
        XCTAssertEqual(again.snapshotsCatalogued, 0)
        // New commits after the migration are merged into catalogues as they accumulate.
        try await MetadataCompactionTests.commit(fresh, count: 20, from: 100)
        let afterCommits = try await mem.list(.snapshots).count
        XCTAssertLessThan(afterCommits, 8)
        let last = try await MetadataCompactionTests.open(mem)
        XCTAssertEqual(try last.snapshots().count, 50)
    }

    /// Stopped before each step that changes the store, and between single deletes:
    /// the repository opens with every snapshot, and a rerun finishes the migration.
    func testAMigrationStoppedAnywhereLosesNothingAndARerunFinishes() async throws {
        let (original, data) = try await Self.formatOneRepository()
        var stops: [(checks: Int, deletes: Int)] = (0..<4).map { ($0, Int.max) }
        stops += [(3, 0), (3, 1), (3, 17)]
        for stop in stops {
            let mem = try await Self.clone(original)
            let store = DeleteRefusingStore(mem)
            let repo = try await MetadataCompactionTests.open(store)
            let checks = Mutex(0)
            store.deletesAllowed.withLock { $0 = stop.deletes }
            do {
                _ = try await RepositoryMigration(repo: repo, commitCheck: {
                    if checks.withLock({ n in defer { n += 1 }; return n == stop.checks }) { throw Stopped() }
                }).run()
                XCTFail("\(stop): not stopped")
            } catch is Stopped {} catch StorageError.permissionDenied {}
            let reopened = try await MetadataCompactionTests.open(mem)
            XCTAssertEqual(Set(try reopened.snapshots().map(\.id.hex)), Set(data.keys), "stopped at \(stop)")
            XCTAssertEqual(reopened.formatVersion, stop.checks >= 2 ? 2 : 1, "stopped at \(stop)")
            let finished = try await RepositoryMigration(repo: reopened).run()
            XCTAssertEqual(finished.toVersion, 2)
            let objects = try await mem.list(.snapshots).count
            XCTAssertEqual(objects, 1, "stopped at \(stop)")
            let last = try await MetadataCompactionTests.open(mem)
            XCTAssertEqual(Set(try last.snapshots().map(\.id.hex)), Set(data.keys), "stopped at \(stop)")
        }
    }
}

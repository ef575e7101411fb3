@testable import CairnRepository
import CairnFormat
import CairnIndex
import CairnStorage
import CairnTestSupport
import Foundation
import Synchronization
import XCTest

/// A store whose reads of some objects fail (a connection lost, a process killed mid-load).
final class FailingReadStore: ObjectStore {
    struct Lost: Error {}
    let base: any ObjectStore
    let failing: Set<ObjectKey>
    init(_ base: any ObjectStore, failing: Set<ObjectKey>) { self.base = base; self.failing = failing }
    var location: String { base.location }
    var listsEveryCompletedPut: Bool { true }
    func put(_ key: ObjectKey, _ bytes: [UInt8]) async throws { try await base.put(key, bytes) }
    func get(_ key: ObjectKey) async throws -> [UInt8] {
        if failing.contains(key) { throw Lost() }
        return try await base.get(key)
    }
    func get(_ key: ObjectKey, offset: UInt64, length: Int) async throws -> [UInt8] {
        if failing.contains(key) { throw Lost() }
        return try await base.get(key, offset: offset, length: length)
    }
    func size(_ key: ObjectKey) async throws -> UInt64? { try await base.size(key) }
    func list(_ namespace: ObjectNamespace) async throws -> [ObjectKey] { try await base.list(namespace) }
    func delete(_ key: ObjectKey) async throws { try await base.delete(key) }
}

/// The disaster open (issue 16.2): a new machine's empty cache loads a WAL archive's snapshots
/// from catalogues and answers every lookup as the writer's cache does; a load stopped half way
/// leaves a cache that the next open completes.
final class ColdCacheLoadTests: XCTestCase {
    static let segments = 2_000

    /// A WAL archive of `segments` snapshots in three catalogues (one more holding some of them
    /// again: a merge stopped before its deletes) and a daily dump as single snapshots.
    private func makeArchive() async throws -> (TestRepository, wal: [String: String], dumps: [String]) {
        let t = try await TestRepository.make()
        var wal: [String: String] = [:], catalogues: [[SnapshotCatalogue.Entry]] = [[], [], []]
        for n in 0..<Self.segments {
            let file = String(format: "00000001%08X%08X", n / 256, n % 256)
            let snapshot = Snapshot(timeNanos: Int64(n) * 60_000_000_000, name: "pg-wal", host: "db1", sourceKind: .stream,
                                    root: ChunkID(bytes: RandomBytes.make(32, seed: UInt64(n)))!,
                                    extra: ["pg-wal-file": file, "pg-wal-sha256": Hex.encode(RandomBytes.make(32, seed: UInt64(n) + 1_000_000)),
                                            "pg-wal-size": "16777216", "pg-wal-kind": "segment", "pg-system-id": "7312"])
            let id = SnapshotID(bytes: RandomBytes.make(32, seed: UInt64(n) + 2_000_000))!
            wal[id.hex] = file
            catalogues[n * 3 / Self.segments].append(.init(id: id, plaintext: snapshot.encoded()))
        }
        for entries in catalogues + [Array(catalogues[1].prefix(100))] {
            let rows = entries.map { SnapshotRow(id: $0.id.hex, snapshot: try! Snapshot.decode($0.plaintext), plaintext: $0.plaintext) }
            _ = try await t.repo.saveCatalogue(SnapshotCatalogue(entries: entries), rows: rows)
        }
        var dumps: [String] = []
        for day in 1...3 {
            dumps.append(try await t.repo.saveSnapshot(Snapshot(timeNanos: Int64(day) * 86_400_000_000_000, name: "pg-dump", host: "db1",
                                                                sourceKind: .stream, root: ChunkID(bytes: RandomBytes.make(32, seed: 9))!)))
        }
        return (t, wal, dumps)
    }

    /// What a cache answers about the archive: the WAL catalogue (file, sha256 and size per
    /// snapshot), one file's lookup, the newest segment, the dumps, and the objects loaded.
    private func answers(_ repo: Repository) throws -> [String] {
        let query = AttributeQuery(name: "pg-wal", key: "pg-wal-file", requiring: ["pg-wal-sha256"])
        let entries = try repo.index.snapshots(query, fields: ["pg-wal-sha256", "pg-wal-size"])
        let lookup = try repo.index.snapshots(AttributeQuery(name: "pg-wal", key: "pg-wal-file", value: "0000000100000000000005DC",
                                                             requiring: ["pg-wal-sha256"]), fields: ["pg-wal-sha256"])
        return entries.map { "\($0.id) \($0.value) \($0.attributes.sorted { $0.key < $1.key })" }
            + lookup.map { "lookup \($0.id) \($0.attributes)" }
            + ["newest \(try repo.index.newestSnapshot(query)?.value ?? "none")"]
            + (try repo.snapshots(name: "pg-dump").map { "dump \($0.id)" })
            + ["latest \(try repo.latestSnapshot()?.id.hex ?? "none")"]
            + (try repo.index.snapshotObjects().map { "object \($0.name) \($0.kind) \($0.snapshots) \($0.complete)" }.sorted())
    }

    func testAnEmptyCacheLoadsEveryCatalogueAndAnswersAsTheWritersCache() async throws {
        let (t, wal, dumps) = try await makeArchive()
        let fresh = try await t.reopen()
        XCTAssertEqual(try fresh.index.snapshotCount(), Self.segments + dumps.count)
        let query = AttributeQuery(name: "pg-wal", key: "pg-wal-file", requiring: ["pg-wal-sha256"])
        let entries = try fresh.index.snapshots(query, fields: ["pg-wal-sha256"])
        XCTAssertEqual(entries.count, Self.segments)
        XCTAssertEqual(entries.map(\.value), wal.values.sorted(), "every file once, in name order")
        XCTAssertTrue(entries.allSatisfy { wal[$0.id] == $0.value && $0.attributes["pg-wal-sha256"]?.count == 64 })
        XCTAssertEqual(Set(try fresh.snapshots(name: "pg-dump").map(\.id.hex)), Set(dumps))
        let stored = try await t.store.list(.snapshots).count
        XCTAssertEqual(try fresh.index.snapshotObjects().count, stored)
        XCTAssertEqual(try answers(fresh), try answers(t.repo), "a cold cache answers as the writer's own")
    }

    func testALoadStoppedHalfWayIsCompletedByTheNextOpen() async throws {
        let (t, _, _) = try await makeArchive()
        let objects = try await t.store.list(.snapshots).sorted { $0.name < $1.name }
        let cacheBase = TestCacheDirectory.make()
        defer { try? FileManager.default.removeItem(atPath: cacheBase) }
        do {
            _ = try await Repository.open(store: FailingReadStore(t.store, failing: [objects[3]]), passphrase: TestRepository.passphrase,
                                          cacheBase: cacheBase)
            XCTFail("the open must fail when an object cannot be read")
        } catch is FailingReadStore.Lost {}
        // Objects are loaded one transaction each, in order: the three before the lost one are in the cache.
        let partial = try RepositoryIndex(path: "\(cacheBase)/\(t.repo.config.repositoryIDHex)/index.sqlite")
        XCTAssertEqual(try partial.snapshotObjectNames(), Set(objects.prefix(3).map(\.name)))
        let reopened = try await Repository.open(store: t.store, passphrase: TestRepository.passphrase, cacheBase: cacheBase)
        XCTAssertEqual(try answers(reopened), try answers(t.repo))
    }
}

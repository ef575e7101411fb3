import CairnEngine
import CairnRepository
import CairnStorage
import XCTest
@testable import CairnPostgres

/// Fails every ranged read of a pack (the blob reads of a restore) with a transient error,
/// while metadata reads (config, keys, index, snapshots) work: a store that
/// answers listings but cannot deliver data.
final class PackReadsFailingStore: ObjectStore {
    let base: any ObjectStore
    init(_ base: any ObjectStore) { self.base = base }
    var location: String { base.location }
    func put(_ key: ObjectKey, _ bytes: [UInt8]) async throws { try await base.put(key, bytes) }
    func get(_ key: ObjectKey) async throws -> [UInt8] { try await base.get(key) }
    func get(_ key: ObjectKey, offset: UInt64, length: Int) async throws -> [UInt8] {
        // Metadata objects are read with a ranged get of their checked size; only pack reads fail.
        guard key.namespace == .data else { return try await base.get(key, offset: offset, length: length) }
        throw StorageError.transient("injected: \(key.path) unavailable")
    }
    func size(_ key: ObjectKey) async throws -> UInt64? { try await base.size(key) }
    func list(_ namespace: ObjectNamespace) async throws -> [ObjectKey] { try await base.list(namespace) }
    func delete(_ key: ObjectKey) async throws { try await base.delete(key) }
}

/// WALArchive on the engine level: a store that fails reads must never look like "absent".
final class WALArchiveEngineTests: XCTestCase {
    func testStoreErrorsThrowInsteadOfReportingAbsent() async throws {
        let dir = NSTemporaryDirectory() + "cairn-walengine-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let base = MemoryStore()
        var options = Repository.CreateOptions()
        options.scrypt = .init(logN: 10, r: 8, p: 1)
        let repo = try await Repository.create(store: base, passphrase: Array("pw".utf8), cacheBase: dir + "/cache", options: options)
        let name = "000000010000000000000007"
        let file = dir + "/" + name
        XCTAssertTrue(FileManager.default.createFile(atPath: file, contents: Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) })))
        let archive = WALArchive(repo: repo, name: "pg-wal")
        guard case .stored = try await archive.push(path: file, fileName: name) else { return XCTFail("not stored") }
        let again = try await archive.push(path: file, fileName: name)
        XCTAssertEqual(again, .alreadyArchived)
        let absent = try await archive.fetch("000000010000000000000008", to: dir + "/out")
        XCTAssertFalse(absent, "absent is absent")
        let found = try await archive.fetch(name, to: dir + "/out")
        XCTAssertTrue(found)
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/out"), FileManager.default.contents(atPath: file))

        // Another process, fresh cache: the store lists everything but cannot deliver pack bytes.
        let failing = try await Repository.open(store: PackReadsFailingStore(base), passphrase: Array("pw".utf8), cacheBase: dir + "/cache2")
        let a2 = WALArchive(repo: failing, name: "pg-wal")
        let stillAbsent = try await a2.fetch("000000010000000000000008", to: dir + "/out2")
        XCTAssertFalse(stillAbsent, "still definitely absent")
        do {
            _ = try await a2.fetch(name, to: dir + "/out2")
            XCTFail("a fetch whose data cannot be read must throw")
        } catch {
            XCTAssertTrue(describe(error).contains("unavailable"), describe(error))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/out2"), "nothing half-written under the name")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/out2.cairn-tmp"))

        // Opening over a store whose reads all fail is an error, never an empty archive.
        do {
            _ = try await Repository.open(store: FaultInjectingStore(base, failGets: 1_000), passphrase: Array("pw".utf8), cacheBase: dir + "/cache3")
            XCTFail("open must fail")
        } catch {}
    }
}

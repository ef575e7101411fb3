@testable import CairnEngine
@testable import CairnRepository
import CairnFormat
import CairnStorage
import CairnTestSupport
import Foundation
import Synchronization
import XCTest

/// A store that counts the bytes read from packs (`data/`).
final class DataByteCountingStore: ObjectStore {
    let base: any ObjectStore
    private let read = Mutex(0)
    init(_ base: any ObjectStore) { self.base = base }
    var location: String { base.location }
    var dataBytes: Int { read.withLock { $0 } }
    func put(_ key: ObjectKey, _ bytes: [UInt8]) async throws { try await base.put(key, bytes) }
    func get(_ key: ObjectKey) async throws -> [UInt8] { count(key, try await base.get(key)) }
    func get(_ key: ObjectKey, offset: UInt64, length: Int) async throws -> [UInt8] {
        count(key, try await base.get(key, offset: offset, length: length))
    }
    private func count(_ key: ObjectKey, _ bytes: [UInt8]) -> [UInt8] {
        if key.namespace == .data { read.withLock { $0 += bytes.count } }
        return bytes
    }
    func size(_ key: ObjectKey) async throws -> UInt64? { try await base.size(key) }
    func list(_ namespace: ObjectNamespace) async throws -> [ObjectKey] { try await base.list(namespace) }
    func delete(_ key: ObjectKey) async throws { try await base.delete(key) }
}

/// What `cairn mount` serves, without FUSE: the layout (by time, name, host,
/// tag, id; latest links), and random-access reads that fetch only the
/// chunks they cover and reuse cached ones.
final class SnapshotFileSystemTests: XCTestCase {
    func testRandomAccessReadsFetchOnlyTheChunksTheyCover() async throws {
        let t = try await TestRepository.make()
        let bytes = pseudoRandomBytes(12 << 20, seed: 41)
        let first = try await backupStream(t.repo, bytes, name: "dbdump")
        _ = try await backupStream(t.repo, Array(bytes.prefix(5000)), name: "other")

        // A new machine: a fresh cache, every pack byte counted.
        let counting = DataByteCountingStore(t.store)
        let repo = try await Repository.open(store: counting, passphrase: TestRepository.passphrase,
                                             cacheBase: TestCacheDirectory.make())
        let records = try repo.snapshots()
        let fs = SnapshotFileSystem(repo: repo, records: records, owner: (1, 2), cacheBytes: 32 << 20)

        // Layout: names escape '/', latest links to the newest time entry, ids by 8 characters.
        let top = try await fs.list(Array("/".utf8))?.map { String(decoding: $0.name, as: UTF8.self) }
        XCTAssertEqual(top, ["hosts", "ids", "names", "snapshots", "tags"])
        let names = try await fs.list(Array("/names".utf8))?.map { String(decoding: $0.name, as: UTF8.self) }
        XCTAssertEqual(names, ["dbdump", "other"])
        let groupList = try await fs.list(Array("/names/dbdump".utf8))
        let group = try XCTUnwrap(groupList)
        XCTAssertEqual(group.count, 2)
        let latestItem = try await fs.item(at: Array("/names/dbdump/latest".utf8))
        let latest = try XCTUnwrap(latestItem)
        XCTAssertEqual(latest.kind, .symlink)
        XCTAssertEqual(latest.linkTarget, group[0].name)
        XCTAssertEqual(latest.uid, 1)
        let byIDList = try await fs.list(Array("/ids/\(first.snapshotID.prefix(8))".utf8))
        let byID = try XCTUnwrap(byIDList)
        XCTAssertEqual(byID.count, 1)
        let filePath = Array("/ids/\(first.snapshotID.prefix(8))/".utf8) + byID[0].name
        let fileItem = try await fs.item(at: filePath)
        let file = try XCTUnwrap(fileItem)
        XCTAssertEqual(file.kind, .file)
        XCTAssertEqual(file.size, UInt64(bytes.count))
        let noSuch = try await fs.item(at: Array("/names/nope/latest".utf8))
        XCTAssertNil(noSuch)

        // Opening reads no file data (trees, read above, live in packs too); 4 KiB in the middle reads a chunk or two, not the file.
        let beforeOpen = counting.dataBytes
        let h = try await fs.open(filePath)
        XCTAssertEqual(counting.dataBytes, beforeOpen, "open looks chunks up in the index only")
        let mid = try await fs.read(h, offset: 7_000_000, count: 4096)
        XCTAssertEqual(mid, Array(bytes[7_000_000..<7_004_096]))
        let afterOne = counting.dataBytes
        XCTAssertGreaterThan(afterOne, beforeOpen)
        XCTAssertLessThan(afterOne - beforeOpen, bytes.count / 4, "a small read fetches only the chunks it covers")
        // Again: from the cache.
        let again = try await fs.read(h, offset: 7_000_100, count: 3000)
        XCTAssertEqual(again, Array(bytes[7_000_100..<7_003_100]))
        XCTAssertEqual(counting.dataBytes, afterOne, "a read of cached chunks fetches nothing")
        // Reads across chunk boundaries and past the end, in kernel-sized pieces, give back the stream.
        var whole: [UInt8] = []
        var offset: UInt64 = 0
        while true {
            let piece = try await fs.read(h, offset: offset, count: 131_072)
            if piece.isEmpty { break }
            whole += piece
            offset += UInt64(piece.count)
        }
        XCTAssertEqual(whole.count, bytes.count)
        XCTAssertTrue(whole == bytes)
        let past = try await fs.read(h, offset: UInt64(bytes.count) + 10, count: 100)
        XCTAssertEqual(past, [])
        fs.close(h)
        do {
            _ = try await fs.read(h, offset: 0, count: 1)
            XCTFail("a closed handle reads nothing")
        } catch {}
    }

    func testTimeNamesAndGroupNames() {
        XCTAssertEqual(SnapshotFileSystem.timeName(1_765_020_788_123_456_789), "2025-12-06T11:33:08Z")
        XCTAssertEqual(SnapshotFileSystem.timeName(-1), "1969-12-31T23:59:59Z")
        XCTAssertEqual(String(decoding: SnapshotFileSystem.groupName(""), as: UTF8.self), "(empty)")
        XCTAssertEqual(String(decoding: SnapshotFileSystem.groupName(".."), as: UTF8.self), "\\x2e\\x2e")
        XCTAssertEqual(String(decoding: SnapshotFileSystem.groupName("a/b\n"), as: UTF8.self), "a\\x2fb\\n")
    }
}

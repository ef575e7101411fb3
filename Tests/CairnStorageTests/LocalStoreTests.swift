import CairnStorage
import Foundation
import XCTest

final class LocalStoreTests: XCTestCase {
    var dir: String!

    override func setUp() {
        dir = NSTemporaryDirectory() + "cairn-store-\(UUID().uuidString)"
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testPutGetRangeListDelete() async throws {
        let store = LocalStore(root: dir)
        try store.createLayout()
        let name = String(repeating: "ab", count: 32)
        let key = ObjectKey(.data, name)
        let bytes = (0..<10_000).map { UInt8(truncatingIfNeeded: $0) }
        try await store.put(key, bytes)
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(dir!)/data/ab/\(name)"))
        let v1 = try await store.get(key)
        XCTAssertEqual(v1, bytes)
        let v2 = try await store.get(key, offset: 100, length: 50)
        XCTAssertEqual(v2, Array(bytes[100..<150]))
        let v3 = try await store.get(key, offset: 9_990, length: 50)
        XCTAssertEqual(v3, Array(bytes[9_990...]))
        let v4 = try await store.size(key)
        XCTAssertEqual(v4, 10_000)
        let v5 = try await store.list(.data)
        XCTAssertEqual(v5, [key])
        try await store.put(ObjectKey(.snapshots, "s1"), [1])
        let v6 = try await store.list(.snapshots).map(\.name)
        XCTAssertEqual(v6, ["s1"])
        // No temp file is left behind by a successful put.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "\(dir!)/tmp"), [])
        try await store.delete(key)
        let v7 = try await store.size(key)
        XCTAssertNil(v7)
        try await store.delete(key)  // absent: not an error
        do { _ = try await store.get(key); XCTFail("expected notFound") } catch let e as StorageError {
            guard case .notFound = e else { return XCTFail("\(e)") }
        }
    }

    /// Files staged under tmp/ go into place as a batch: each stored with its bytes, none left
    /// in tmp/. A file that cannot be stored fails the batch: those before it are stored whole,
    /// it and those after it are removed, none is half there.
    func testPutFilesStoresABatchAndRemovesWhatItCannotStore() async throws {
        let store = LocalStore(root: dir)
        try store.createLayout()
        XCTAssertGreaterThan(store.preferredFileBatch, 1)
        func stage(_ i: Int) throws -> (key: ObjectKey, path: String, bytes: [UInt8]) {
            let bytes = (0..<(5_000 + i)).map { UInt8(truncatingIfNeeded: $0 &* (i + 7)) }
            let file = try StagingFile(directory: "\(dir!)/tmp", prefix: "pack")
            try file.append(bytes)
            try file.close()
            let name = String(format: "%02x", i * 37) + String(repeating: "0", count: 62)
            return (ObjectKey(.data, name), file.path, bytes)
        }
        let files = try (0..<5).map(stage)
        try await store.putFiles(files.map { (key: $0.key, path: $0.path) }, coldEligible: true)
        for f in files {
            let stored = try await store.get(f.key)
            XCTAssertEqual(stored, f.bytes)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "\(dir!)/tmp"), [], "every staged file moved in")

        let more = try (10..<14).map(stage)
        unlink(more[1].path)  // gone before its turn: the batch fails there
        do {
            try await store.putFiles(more.map { (key: $0.key, path: $0.path) }, coldEligible: true)
            XCTFail("a missing staged file must fail the batch")
        } catch let e as StorageError {
            guard case .notFound = e else { return XCTFail("\(e)") }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "\(dir!)/tmp"), [], "the files not stored are removed")
        for f in more {
            let size = try await store.size(f.key)
            XCTAssertNil(size, "the files are synced before any is moved in: none stored")
        }
    }

    func testConfigObject() async throws {
        let store = LocalStore(root: dir)
        try store.createLayout()
        let v8 = try await store.list(.config)
        XCTAssertEqual(v8, [])
        try await store.put(.config, [9, 9])
        let v9 = try await store.list(.config)
        XCTAssertEqual(v9, [.config])
        let v10 = try await store.get(.config)
        XCTAssertEqual(v10, [9, 9])
    }

    func testMissingRootIsNotFoundNotCrash() async throws {
        let store = LocalStore(root: dir + "/does/not/exist")
        let v11 = try await store.size(.config)
        XCTAssertNil(v11)
        let v12 = try await store.list(.snapshots)
        XCTAssertEqual(v12, [])
    }

    func testFaultInjection() async throws {
        let mem = MemoryStore()
        let faulty = FaultInjectingStore(mem, allowPuts: 2, failGets: 1)
        try await faulty.put(ObjectKey(.index, "a"), [1])
        try await faulty.put(ObjectKey(.index, "b"), [2])
        do { try await faulty.put(ObjectKey(.index, "c"), [3]); XCTFail() } catch let e as StorageError { XCTAssertEqual(e, .diskFull("injected")) }
        let v13 = try await mem.size(ObjectKey(.index, "c"))
        XCTAssertNil(v13)
        do { _ = try await faulty.get(ObjectKey(.index, "a")); XCTFail() } catch let e as StorageError {
            guard case .transient = e else { return XCTFail("\(e)") }
        }
        let v14 = try await faulty.get(ObjectKey(.index, "a"))
        XCTAssertEqual(v14, [1])
    }
}

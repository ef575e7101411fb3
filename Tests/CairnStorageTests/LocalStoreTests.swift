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

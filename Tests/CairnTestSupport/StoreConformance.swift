import CairnCrypto
import CairnFormat
import CairnStorage
import Foundation
import XCTest

/// What every `ObjectStore` must do (kopia's blobtesting): CairnStorageTests runs it
/// against the local and the memory store, CairnS3Tests against S3 (moto, directly
/// and through the fault proxy). A new backend's tests call `run` on it.
public enum StoreConformance {
    /// Seeded test bytes (the suite's own stream: SplitMix64 started one step past `seed`).
    public static func bytes(_ n: Int, seed: UInt64) -> [UInt8] {
        RandomBytes.make(n, seed: seed &+ 0x9E37_79B9_7F4A_7C15)
    }

    /// The `i`-th object name of the suite: 64 hex digits, like a pack id.
    public static func name(_ i: Int) -> String {
        let hex = Array("0123456789abcdef")
        var v = UInt64(i) &* 0x9E37_79B9_7F4A_7C15
        return String((0..<64).map { _ in v = v &* 6364136223846793005 &+ 1442695040888963407; return hex[Int(v >> 60)] })
    }

    /// - Parameter largeSize: an object size that takes the store's multipart path, if it has one.
    public static func run(_ store: any ObjectStore, largeSize: Int = 11 << 20, file: StaticString = #filePath, line: UInt = #line) async throws {
        // Absent objects.
        let absent = ObjectKey(.data, name(999))
        var s = try await store.size(absent)
        XCTAssertNil(s, file: file, line: line)
        do { _ = try await store.get(absent); XCTFail("get of an absent object must throw notFound", file: file, line: line) } catch StorageError.notFound {}
        try await store.delete(absent)  // not an error
        let v1 = try await store.list(.config)
        XCTAssertEqual(v1, [], file: file, line: line)

        // Whole and ranged reads.
        let small = bytes(10_000, seed: 1)
        let k1 = ObjectKey(.data, name(1))
        try await store.put(k1, small)
        let v2 = try await store.get(k1)
        XCTAssertEqual(v2, small, file: file, line: line)
        let v3 = try await store.get(k1, offset: 100, length: 50)
        XCTAssertEqual(v3, Array(small[100..<150]), file: file, line: line)
        let v4 = try await store.get(k1, offset: 9_990, length: 50)
        XCTAssertEqual(v4, Array(small[9_990...]), "a range past the end is cut", file: file, line: line)
        let v5 = try await store.get(k1, offset: 20_000, length: 10)
        XCTAssertEqual(v5, [], "a range starting past the end is empty", file: file, line: line)
        s = try await store.size(k1)
        XCTAssertEqual(s, 10_000, file: file, line: line)

        // A staged file (how packs are stored, named by the SHA-256 of its bytes): moved in where
        // the store can, read back and put otherwise; either way the object is whole and the file
        // is gone afterwards.
        let stagingDir = store.stagingDirectory ?? NSTemporaryDirectory() + "conformance-staging-\(UInt64.random(in: 0...UInt64.max))"
        let staged = try StagingFile(directory: stagingDir, prefix: "pack")
        let stagedBytes = bytes(700_000, seed: 7)
        try staged.append(Array(stagedBytes[..<1000]))
        try staged.append(Array(stagedBytes[1000...]))  // larger than the write buffer: written through
        XCTAssertEqual(staged.size, 700_000, file: file, line: line)
        try staged.close()
        let k7 = ObjectKey(.data, Hex.encode(SHA256.hash(stagedBytes)))
        try await store.putFile(k7, path: staged.path, coldEligible: true)
        let staged7 = try await store.get(k7)
        XCTAssertEqual(staged7, stagedBytes, file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: staged.path), "putFile removes the staged file", file: file, line: line)
        try await store.delete(k7)

        // A large object (multipart where the store has it), read back whole and across part boundaries.
        let large = bytes(largeSize, seed: 2)
        let k2 = ObjectKey(.data, name(2))
        try await store.put(k2, large)
        let v6 = try await store.get(k2)
        XCTAssertEqual(v6, large, file: file, line: line)
        let edge = UInt64(5 << 20) - 10
        let v7 = try await store.get(k2, offset: edge, length: 20)
        XCTAssertEqual(v7, Array(large[Int(edge)..<Int(edge) + 20]), file: file, line: line)
        s = try await store.size(k2)
        XCTAssertEqual(s, UInt64(largeSize), file: file, line: line)

        // The config object and the other namespaces.
        try await store.put(.config, [1, 2, 3])
        let v8 = try await store.list(.config)
        XCTAssertEqual(v8, [.config], file: file, line: line)
        let v9 = try await store.get(.config)
        XCTAssertEqual(v9, [1, 2, 3], file: file, line: line)
        for ns in [ObjectNamespace.keys, .index, .snapshots, .locks] {
            try await store.put(ObjectKey(ns, name(10)), [UInt8(ns.rawValue.count)])
        }
        for ns in [ObjectNamespace.keys, .index, .snapshots, .locks] {
            let v10 = try await store.list(ns).count
            XCTAssertEqual(v10, 1, "\(ns)", file: file, line: line)
        }
        // Empty objects exist.
        let empty = ObjectKey(.snapshots, name(50))
        try await store.put(empty, [])
        s = try await store.size(empty)
        XCTAssertEqual(s, 0, file: file, line: line)
        let v11 = try await store.get(empty)
        XCTAssertEqual(v11, [], file: file, line: line)

        // Bounded whole reads (one request where the store can): the object when it fits, a
        // refusal when it does not, notFound when absent; an empty object is empty.
        let w1 = try await store.readWhole(k1, limit: 10_000)
        XCTAssertEqual(w1, .bytes(small), "an object of exactly the limit is read", file: file, line: line)
        let w2 = try await store.readWhole(k1, limit: 1 << 20)
        XCTAssertEqual(w2, .bytes(small), file: file, line: line)
        let w3 = try await store.readWhole(k1, limit: 9_999)
        switch w3 {
        case .tooLarge(let size): XCTAssertTrue(size == nil || size == 10_000, "\(w3)", file: file, line: line)
        default: XCTFail("an object over the limit must be refused: \(w3)", file: file, line: line)
        }
        let w4 = try await store.readWhole(empty, limit: 64)
        XCTAssertEqual(w4, .bytes([]), file: file, line: line)
        let w5 = try await store.readWhole(.config, limit: UInt64.max)
        XCTAssertEqual(w5, .bytes([1, 2, 3]), "no limit", file: file, line: line)
        do { _ = try await store.readWhole(absent, limit: 64); XCTFail("readWhole of an absent object must throw notFound", file: file, line: line) } catch StorageError.notFound {}

        // Listing across many objects (continuation where the store pages).
        var keys: Set<ObjectKey> = [k1, k2]
        for i in 100..<125 { let k = ObjectKey(.data, name(i)); keys.insert(k); try await store.put(k, [UInt8(i)]) }
        let listed = Set(try await store.list(.data))
        XCTAssertEqual(listed, keys, file: file, line: line)

        // A second put of the same content is harmless.
        try await store.put(k1, small)
        let v12 = try await store.get(k1)
        XCTAssertEqual(v12, small, file: file, line: line)

        // Delete.
        try await store.delete(k1)
        s = try await store.size(k1)
        XCTAssertNil(s, file: file, line: line)
        let v13 = try await store.list(.data).contains(k1)
        XCTAssertFalse(v13, file: file, line: line)
    }
}

import CairnEngine
import CairnRepository
import CairnStorage
import CairnTestSupport
import Foundation
import Synchronization
import XCTest
@testable import CairnPostgres

/// Counts the requests a store receives, by kind (`GET`, `LIST`, `PUT`, `DELETE`, `HEAD`).
final class RequestCountingStore: ForwardingStore, @unchecked Sendable {
    private let counts = Mutex<[String: Int]>([:])
    private func count(_ kind: String) { counts.withLock { $0[kind, default: 0] += 1 } }
    override func put(_ key: ObjectKey, _ bytes: [UInt8]) async throws { count("PUT"); try await super.put(key, bytes) }
    override func get(_ key: ObjectKey) async throws -> [UInt8] { count("GET"); return try await super.get(key) }
    override func get(_ key: ObjectKey, offset: UInt64, length: Int) async throws -> [UInt8] {
        count("GET"); return try await super.get(key, offset: offset, length: length)
    }
    override func size(_ key: ObjectKey) async throws -> UInt64? { count("HEAD"); return try await super.size(key) }
    override func readWhole(_ key: ObjectKey, limit: UInt64) async throws -> BoundedRead {
        count("GET"); return try await super.readWhole(key, limit: limit)
    }
    override func list(_ namespace: ObjectNamespace) async throws -> [ObjectKey] { count("LIST"); return try await super.list(namespace) }
    override func delete(_ key: ObjectKey) async throws { count("DELETE"); try await super.delete(key) }

    /// The counts since the last call, and starts again from zero.
    func take() -> [String: Int] { counts.withLock { c in defer { c = [:] }; return c } }

    /// A new directory, and a repository created (fast key derivation) in a memory store seen
    /// through a counting store, with its cache in the directory.
    static func repository(passphrase: [UInt8], name: String) async throws
        -> (dir: String, mem: MemoryStore, store: RequestCountingStore, cache: String, repo: Repository) {
        let dir = NSTemporaryDirectory() + "cairn-\(name)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let mem = MemoryStore(), store = RequestCountingStore(mem)
        var options = Repository.CreateOptions()
        options.scrypt = .init(logN: 10, r: 8, p: 1)
        let cache = dir + "/cache"
        let repo = try await Repository.create(store: store, passphrase: passphrase, cacheBase: cache, options: options)
        return (dir, mem, store, cache, repo)
    }
}

/// Issue 16.1: the cost of the archive's commands does not grow with the
/// number of WAL files archived. A few thousand pushes (small files, through
/// the engine, one lock per push as `cairn wal-push` takes it) at two sizes:
/// the objects in the store, the requests of a new machine's first open, of
/// a push and of a fetch by a new process stay flat. Counts, not times (times
/// belong in Benchmarks/longhaul).
final class WALArchiveFlatCostTests: XCTestCase {
    struct Cost: CustomStringConvertible {
        var segments = 0
        var objects: [String: Int] = [:]
        var coldOpen: [String: Int] = [:]
        var pushRequests = 0.0
        var fetchRequests = 0.0
        var description: String {
            "\(segments) segments: objects \(objects.sorted { $0.key < $1.key }), cold open \(coldOpen.sorted { $0.key < $1.key }), "
                + "per push \(pushRequests) requests, per fetch \(fetchRequests)"
        }
    }

    static let passphrase = Array("flat cost".utf8)

    func testCostStaysFlatAsTheArchiveGrows() async throws {
        let (dir, mem, store, cache, repo) = try await RequestCountingStore.repository(passphrase: Self.passphrase, name: "flatcost")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let segment = dir + "/segment"

        func name(_ i: Int) -> String { String(format: "00000001%08X%08X", i / 256, i % 256) }
        /// One `cairn wal-push`: a shared lock, a sync under it, the push, the merge after the commit.
        func push(_ i: Int, into repo: Repository) async throws {
            XCTAssertTrue(FileManager.default.createFile(atPath: segment, contents: Data(RandomBytes.make(2048 + i % 512, seed: UInt64(i)))))
            let lock = try await LockManager(repo: repo).acquire(exclusive: false, operation: "wal-push")
            let outcome = try await lock.holding {
                try await repo.sync()
                return try await WALArchive(repo: repo, name: "pg-wal").push(path: segment, fileName: name(i))
            }
            guard case .stored = outcome else { return XCTFail("segment \(i) not stored") }
        }
        func requests(_ counts: [String: Int]) -> Int { counts.values.reduce(0, +) }

        var pushed = 0
        func measure() async throws -> Cost {
            var cost = Cost(segments: pushed)
            for ns in [ObjectNamespace.snapshots, .index, .forgotten] { cost.objects["\(ns)"] = try await mem.list(ns).count }
            _ = store.take()
            // A new machine: an empty cache. Every snapshot is there.
            let cold = try await Repository.open(store: store, passphrase: Self.passphrase, cacheBase: dir + "/cold-\(pushed)")
            cost.coldOpen = store.take()
            XCTAssertEqual(try WALArchive(repo: cold, name: "pg-wal").summary().files, pushed)
            // New processes with the warm cache: ten pushes, ten fetches.
            for _ in 0..<10 {
                let process = try await Repository.open(store: store, passphrase: Self.passphrase, cacheBase: cache)
                try await push(pushed, into: process)
                pushed += 1
            }
            cost.pushRequests = Double(requests(store.take())) / 10
            for k in 0..<10 {
                let process = try await Repository.open(store: store, passphrase: Self.passphrase, cacheBase: cache)
                let found = try await WALArchive(repo: process, name: "pg-wal").fetch(name(k * 7), to: dir + "/fetched")
                XCTAssertTrue(found)
            }
            cost.fetchRequests = Double(requests(store.take())) / 10
            XCTAssertEqual(FileManager.default.contents(atPath: dir + "/fetched").map { [UInt8]($0) },
                           RandomBytes.make(2048 + 63 % 512, seed: 63))
            return cost
        }

        while pushed < 200 { try await push(pushed, into: repo); pushed += 1 }
        let small = try await measure()
        while pushed < 2_000 { try await push(pushed, into: repo); pushed += 1 }
        let large = try await measure()
        print("flat cost: \(small)\nflat cost: \(large)")

        // Ten times the history: the same number of objects within a few, and the same requests.
        let objects = { (c: Cost) in c.objects.values.reduce(0, +) }
        XCTAssertLessThan(objects(large), 80, "\(large)")
        XCTAssertLessThanOrEqual(Double(objects(large)), 1.3 * Double(objects(small)) + 10, "\(small) → \(large)")
        XCTAssertLessThanOrEqual(Double(requests(large.coldOpen)), 1.3 * Double(requests(small.coldOpen)) + 10, "\(small) → \(large)")
        XCTAssertLessThanOrEqual(large.pushRequests, 1.3 * small.pushRequests + 2, "\(small) → \(large)")
        XCTAssertLessThanOrEqual(large.fetchRequests, 1.3 * small.fetchRequests + 1, "\(small) → \(large)")
        // A cold open reads each metadata object with one request (no HEAD before each GET:
        // 40 of a cold open's 84 requests on S3 at 45,000 segments were such HEADs).
        for cost in [small, large] {
            XCTAssertEqual(cost.coldOpen["HEAD", default: 0], 0, "\(cost)")
            XCTAssertLessThanOrEqual(cost.coldOpen["GET", default: 0], objects(cost) + 3, "one GET per metadata object, the config and the key: \(cost)")
        }
        // What a format-1 store would have held: two objects per push.
        XCTAssertLessThan(objects(large), large.segments / 20)
    }
}

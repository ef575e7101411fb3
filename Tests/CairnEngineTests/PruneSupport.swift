@testable import CairnEngine
@testable import CairnRepository
import CairnFormat
import CairnRetention
import CairnStorage
import CairnTestSupport
import Foundation
import XCTest

/// A repository of stream snapshots whose contents overlap, for forget and prune tests.
struct PruneFixture {
    static let profiles = [ChunkerProfile(name: "dump", minimumSize: 1024, averageSize: 4096, maximumSize: 16384)]
    let mem: MemoryStore
    let t: TestRepository
    /// Snapshot id → the bytes it holds.
    var contents: [String: [UInt8]] = [:]
    /// Snapshot ids, oldest first.
    var order: [String] = []

    /// `count` snapshots named "db": a shared 120 kB base, then 60 kB unique to each, then the base again.
    static func make(count: Int = 6, packSize: UInt32 = 1 << 16) async throws -> PruneFixture {
        let mem = MemoryStore()
        var f = PruneFixture(mem: mem, t: try await TestRepository.make(store: mem, profiles: profiles, packSize: packSize))
        let base = pseudoRandomBytes(120_000, seed: 99)
        for i in 0..<count {
            let data = base + pseudoRandomBytes(60_000, seed: UInt64(1000 + i)) + base.prefix(30_000)
            try await f.backup(data, name: "db", time: Int64(1_700_000_000 + i * 86_400) * 1_000_000_000)
        }
        return f
    }

    /// `delta` off by default: these tests are about dedup and packs; PruneDeltaTests turns it on.
    mutating func backup(_ data: [UInt8], name: String, time: Int64, repo: Repository? = nil, delta: Bool = false) async throws {
        var o = BackupOptions(name: name)
        o.timeNanos = time
        o.delta = delta
        let r = try await withPipe(data) { fd in try await Archiver(repo: repo ?? t.repo, options: o).backup(streamFD: fd) }
        contents[r.snapshotID] = data
        order.append(r.snapshotID)
    }

    func open(_ store: (any ObjectStore)? = nil) async throws -> Repository {
        try await Repository.open(store: store ?? mem, passphrase: TestRepository.passphrase,
                                  cacheBase: TestCacheDirectory.make())
    }

    /// A byte-for-byte copy of the store.
    func copy() async throws -> MemoryStore {
        let c = MemoryStore()
        for ns in ObjectNamespace.allCases { for k in try await mem.list(ns) { try await c.put(k, try await mem.get(k)) } }
        return c
    }

    func storedBytes(_ store: (any ObjectStore)? = nil) async throws -> UInt64 {
        let s = store ?? mem
        var total: UInt64 = 0
        for k in try await s.list(.data) { total += try await s.size(k) ?? 0 }
        return total
    }

    /// Forgets every snapshot but the newest `keep`.
    func forgetAllBut(_ keep: Int, repo: Repository? = nil) async throws -> [String] {
        var p = RetentionPolicy(); p.last = keep
        return try await SnapshotForgetter(repo: repo ?? t.repo).run(policy: p, selection: .init(), separately: [], allowRemoveAll: false, dryRun: false).removed.map(\.hex)
    }

    /// Every listed snapshot restores byte for byte through a fresh cache.
    func assertRestores(_ ids: [String], store: (any ObjectStore)? = nil, _ message: String = "", file: StaticString = #filePath, line: UInt = #line) async throws {
        let repo = try await open(store)
        for id in ids {
            do {
                let back = try await restoreStream(repo, id)
                XCTAssertTrue(back == contents[id]!, "\(message) snapshot \(id.prefix(8)) restored different bytes", file: file, line: line)
            } catch {
                XCTFail("\(message) snapshot \(id.prefix(8)) does not restore: \(describe(error))", file: file, line: line)
            }
        }
    }

    /// The store holds one index object, it names exactly the packs in the store, and a prune finds nothing to do.
    func assertClean(store: (any ObjectStore)? = nil, _ message: String = "", file: StaticString = #filePath, line: UInt = #line) async throws {
        let s = store ?? mem
        let repo = try await open(s)
        let indexKeys = try await s.list(.index)
        XCTAssertEqual(indexKeys.count, 1, "\(message) index objects", file: file, line: line)
        var named = Set<String>()
        for k in indexKeys {
            for p in try IndexDelta.decode(try repo.keys.openObject(.index, try await s.get(k))).packs { named.insert(p.id.hex) }
        }
        let v1 = try await s.list(.data).map(\.name)
        XCTAssertEqual(named, Set(v1), "\(message) packs named by the index vs stored", file: file, line: line)
        var o = PruneOptions(); o.dryRun = true; o.maxUnused = .bytes(0)
        let plan = try await Pruner(repo: repo, options: o).run()
        XCTAssertEqual(plan.unusedBlobs, 0, "\(message) unused blobs left", file: file, line: line)
        XCTAssertEqual(plan.packsDeleted + plan.packsRepacked, 0, "\(message) prune still has work", file: file, line: line)
    }

    /// Data chunk ids of a stream snapshot.
    func chunkIDs(_ id: String, repo: Repository? = nil) async throws -> Set<ChunkID> {
        let r = repo ?? t.repo
        let record = try r.resolveSnapshot(id)
        let node = try await r.loadTree(record.snapshot.root).nodes[0]
        XCTAssertEqual(node.content.level, 0)
        return Set(node.content.ids)
    }

    /// Every blob id in the store's packs, read from the pack headers themselves.
    func storedBlobIDs(_ store: (any ObjectStore)? = nil) async throws -> Set<ChunkID> {
        let s = store ?? mem
        let repo = try await open(s)
        var out = Set<ChunkID>()
        for k in try await s.list(.data) {
            let h = try await repo.readPackHeader(PackID(hex: k.name)!, size: try await s.size(k)!)
            for e in h.entries { out.insert(e.id) }
        }
        return out
    }
}

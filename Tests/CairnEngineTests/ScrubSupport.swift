@testable import CairnEngine
@testable import CairnRepository
import CairnFormat
import CairnStorage
import CairnTestSupport
import XCTest

/// A repository with three snapshots (two streams, one tree-like stream) and
/// helpers to damage it the ways the scrub issue lists.
struct DamageFixture {
    let mem: MemoryStore
    let t: TestRepository
    let streams: [String: [UInt8]]
    var ids: [String: String] = [:]

    static let profiles = [ChunkerProfile(name: "dump", minimumSize: 1024, averageSize: 4096, maximumSize: 16384),
                           ChunkerProfile(name: "file", minimumSize: 1024, averageSize: 4096, maximumSize: 16384)]

    static func make() async throws -> DamageFixture {
        let mem = MemoryStore()
        let t = try await TestRepository.make(store: mem, profiles: profiles, packSize: 1 << 16)
        let streams = ["alpha": pseudoRandomBytes(300_000, seed: 11), "beta": pseudoRandomBytes(200_000, seed: 12)]
        var f = DamageFixture(mem: mem, t: t, streams: streams)
        for (name, data) in streams.sorted(by: { $0.key < $1.key }) {
            f.ids[name] = try await backupStream(t.repo, data, name: name).snapshotID
        }
        return f
    }

    /// A fresh open of the store (new cache), as another machine would.
    func open(_ store: (any ObjectStore)? = nil) async throws -> Repository {
        try await Repository.open(store: store ?? mem, passphrase: TestRepository.passphrase,
                                  cacheBase: TestCacheDirectory.make())
    }

    func scrub(readData: Bool = true) async throws -> ScrubReport {
        var o = ScrubOptions(); o.readData = readData
        return try await Checker(repo: try await open(), options: o).run()
    }

    /// The pack holding the first data chunk of a stream snapshot.
    func packOfFirstChunk(_ name: String) async throws -> (key: ObjectKey, offset: UInt64) {
        let repo = try await open()
        let record = try repo.resolveSnapshot(ids[name]!)
        let first = try await repo.loadTree(record.snapshot.root).nodes[0].content.ids[0]
        let loc = try XCTUnwrap(try repo.index.lookup(first, type: .data))
        return (ObjectKey(.data, loc.pack.hex), loc.offset)
    }

    func packOfRootTree(_ name: String) async throws -> (key: ObjectKey, offset: UInt64) {
        let repo = try await open()
        let record = try repo.resolveSnapshot(ids[name]!)
        let loc = try XCTUnwrap(try repo.index.lookup(record.snapshot.root, type: .tree))
        return (ObjectKey(.data, loc.pack.hex), loc.offset)
    }

    func restores(_ name: String, using repo: Repository? = nil) async -> Bool {
        var r = repo
        if r == nil { r = try? await open() }
        guard let r, let back = try? await restoreStream(r, ids[name]!) else { return false }
        return back == streams[name]!
    }

    /// A byte-for-byte copy of the store: a replica with the same master key.
    func replica() async throws -> MemoryStore {
        let copy = MemoryStore()
        for ns in ObjectNamespace.allCases {
            for k in try await mem.list(ns) { try await copy.put(k, try await mem.get(k)) }
        }
        return copy
    }
}

func flipBit(_ store: MemoryStore, _ key: ObjectKey, at offset: Int) {
    store.tamper(key) { var b = $0; b[offset] ^= 0x04; return b }
}

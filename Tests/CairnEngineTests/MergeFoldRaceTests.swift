@testable import CairnEngine
@testable import CairnRepository
import CairnCrypto
import CairnFormat
import CairnStorage
import CairnTestSupport
import Foundation
import Synchronization
import XCTest

/// A store that runs `hook` once, right before the first delete of an object of `namespace`:
/// another writer acting between two steps of this one.
final class BeforeDeleteStore: ForwardingStore, @unchecked Sendable {
    let namespace: ObjectNamespace
    private let hook = Mutex<(@Sendable () async throws -> Void)?>(nil)
    init(_ base: MemoryStore, namespace: ObjectNamespace) { self.namespace = namespace; super.init(base) }
    func onFirstDelete(_ body: @escaping @Sendable () async throws -> Void) { hook.withLock { $0 = body } }
    override var listsEveryCompletedPut: Bool { true }
    override func delete(_ key: ObjectKey) async throws {
        if key.namespace == namespace, let h = hook.withLock({ h in defer { h = nil }; return h }) { try await h() }
        try await super.delete(key)
    }
}

/// Issue 16's long haul (session 7, traced): a merge whose merged object names exactly the packs
/// of one of its inputs (the other inputs add none) and another writer's fold that takes the
/// merged object for a copy of that input. The fold deletes the merged object relying on the
/// input, the merge deletes the input relying on the merged object: on c60cb54 both went, and
/// every pack they named was named by no index object (98 packs in one reproduction).
final class MergeFoldRaceTests: XCTestCase {
    /// Every pack in the store is named by an index object in the store, and every snapshot restores.
    private func assertEverythingNamed(_ mem: MemoryStore, _ data: [String: [UInt8]], _ what: String) async throws {
        let fresh = try await MetadataCompactionTests.open(mem)
        let unnamed = try await packsNamedByNoIndexObject(fresh, in: mem)
        XCTAssertEqual(unnamed, [], "\(what): packs named by no index object")
        try await fresh.sync()
        for (id, bytes) in data {
            let back = try await restoreStream(fresh, id)
            XCTAssertEqual(back, bytes, "\(what): snapshot \(id.prefix(12))")
        }
    }

    func testAMergeWhoseObjectAFoldDeletesPutsItBack() async throws {
        let mem = MemoryStore()
        let repo = try await MetadataCompactionTests.make(mem)
        let data = try await MetadataCompactionTests.commit(repo, count: 2, compact: false)
        let first = try await mem.list(.index).map(\.name).sorted()[0]
        let firstBytes = try await mem.get(ObjectKey(.index, first))
        var compactor = MetadataCompactor(repo: repo)
        compactor.indexPolicy = .init(fanIn: 2, baseBytes: 1 << 30, capBytes: 1 << 30)
        let merged = try await compactor.mergeIndexObjects()
        XCTAssertEqual(merged, 2)
        // One input of that merge stored again: a merge of it with the merged object adds no pack.
        try await mem.put(ObjectKey(.index, first), firstBytes)
        let before = Set(try await mem.list(.index).map(\.name))
        XCTAssertEqual(before.count, 2)

        let gate = BeforeDeleteStore(mem, namespace: .index)
        let writer = try await MetadataCompactionTests.open(gate)
        // Between the merge's put and its deletes, another writer's fold deletes the new object
        // (a verified copy of the input the merge is about to delete).
        gate.onFirstDelete {
            for key in try await mem.list(.index) where !before.contains(key.name) { try await mem.delete(key) }
        }
        var second = MetadataCompactor(repo: writer)
        second.indexPolicy = compactor.indexPolicy
        let again = try await second.mergeIndexObjects()
        XCTAssertEqual(again, 2)
        try await assertEverythingNamed(mem, data, "merge")
    }

    func testAFoldWhoseKeptObjectAMergeDeletesPutsACopyBack() async throws {
        let mem = MemoryStore()
        let repo = try await MetadataCompactionTests.make(mem)
        let data = try await MetadataCompactionTests.commit(repo, count: 1, compact: false)
        let original = try await mem.list(.index).map(\.name)[0]
        // A copy: the same delta sealed again (the same size and packs, another name).
        let plain = try repo.keys.openObject(.index, try await mem.get(ObjectKey(.index, original)))
        let sealed = try repo.keys.sealObject(.index, plain)
        try await mem.put(ObjectKey(.index, Hex.encode(SHA256.hash(sealed))), sealed)
        let names = try await mem.list(.index).map(\.name).sorted()
        XCTAssertEqual(names.count, 2)

        let gate = BeforeDeleteStore(mem, namespace: .index)
        let writer = try await MetadataCompactionTests.open(gate)
        // Between the fold's check and its delete of the copy, another writer's merge deletes the
        // kept one (its input), relying on the copy (its merged object, naming the same packs).
        let kept = names[0]
        gate.onFirstDelete { try await mem.delete(ObjectKey(.index, kept)) }
        let folded = try await MetadataCompactor(repo: writer).foldDuplicateIndexObjects(try writer.index.indexObjects())
        XCTAssertEqual(folded, 1)
        try await assertEverythingNamed(mem, data, "fold")
    }
}

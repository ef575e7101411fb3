@testable import CairnEngine
import CairnFormat
import CairnIndex
import Foundation
import XCTest

/// `PrunePlan` decided from hand-built facts, with no store and no
/// repository: packs and their entries written out here, blobs marked used by
/// hand, what is locked and what no index names given as facts.
final class PrunePlanTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "cairn-prune-plan-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private static func id(_ n: UInt8) -> ChunkID { ChunkID(bytes: [UInt8](repeating: n, count: 32))! }
    private static func packID(_ n: UInt8) -> PackID { PackID(bytes: [UInt8](repeating: n, count: 32))! }

    /// A blob in a hand-made pack: its id, stored length and delta base.
    private struct Blob {
        let id: ChunkID
        var type: BlobType = .data
        var length: UInt32 = 100
        var base: ChunkID? = nil
    }

    /// A pack of `blobs` laid out one after the other, 64 header bytes more than they hold.
    private static func pack(_ n: UInt8, _ blobs: [Blob], type: PackType = .data) -> IndexedPack {
        var offset: UInt64 = 0
        var entries: [BlobEntry] = []
        for b in blobs {
            entries.append(BlobEntry(type: b.type, id: b.id, offset: offset, length: b.length, rawLength: b.length * 2, base: b.base))
            offset += UInt64(b.length)
        }
        return IndexedPack(id: packID(200 + n), type: type, size: offset + 64, entries: entries)
    }

    /// The index of `packs` (those in `missing` absent from the store) with `used` data blobs marked.
    private func index(_ packs: [IndexedPack], missing: Set<Int> = [], used: [ChunkID]) throws -> PruneIndex {
        let table = try IndexEntryTable(directory: directory, repeatedPacks: .keepFirst)
        for p in packs { try table.add(p) }
        try table.finish()
        let ix = try PruneIndex(table: table, present: packs.indices.map { !missing.contains($0) })
        for u in used { XCTAssertTrue(try ix.markData(u), "\(u.short) is in the index") }
        try ix.markBasesOfUsedDeltas()
        return ix
    }

    private func options(_ maxUnused: PruneOptions.MaxUnused, repack: UInt64? = nil) -> PruneOptions {
        var o = PruneOptions()
        o.maxUnused = maxUnused
        o.maxRepackBytes = repack
        return o
    }

    func testUnusedPacksGoUsedStayMissingDroppedUnindexedDeleted() throws {
        let (a, b, c, d) = (Self.id(1), Self.id(2), Self.id(3), Self.id(4))
        let packs = [Self.pack(0, [Blob(id: a), Blob(id: b)]), Self.pack(1, [Blob(id: c, length: 300)]), Self.pack(2, [Blob(id: d)])]
        var facts = PruneFacts(index: try index(packs, missing: [2], used: [a, b]))
        facts.snapshots = 1
        facts.indexObjects = 1
        facts.unindexed = [Self.packID(99): 500]
        let plan = try PrunePlan(facts, options: options(.percent(5)))
        XCTAssertEqual(plan.keep, [0])
        XCTAssertEqual(plan.delete, [1])
        XCTAssertEqual(plan.dropMissing, [2])
        XCTAssertEqual(plan.repack, [])
        XCTAssertEqual(plan.unindexed, [Self.packID(99)])
        let s = plan.summary
        XCTAssertEqual(s.usedBlobs, 2)
        XCTAssertEqual(s.usedBytes, 200)
        XCTAssertEqual(s.unusedBlobs, 1, "the missing pack's blob is no unused blob in the store")
        XCTAssertEqual(s.unusedBytes, 300 + 500)
        XCTAssertEqual(s.packs, 3)
        XCTAssertEqual(s.packBytes, packs[0].size + packs[1].size + 500)
        XCTAssertEqual(s.packsDeleted, 2)
        XCTAssertEqual(s.unindexedPacksDeleted, 1)
        XCTAssertEqual(s.bytesDeleted, packs[1].size + 500)
        XCTAssertEqual(s.missingPacksDropped, 1)
        XCTAssertTrue(s.indexRewritten)
    }

    func testNothingToDoRewritesNoIndexUnlessSeveralObjects() throws {
        let a = Self.id(1)
        var facts = PruneFacts(index: try index([Self.pack(0, [Blob(id: a)])], used: [a]))
        facts.indexObjects = 1
        XCTAssertFalse(try PrunePlan(facts, options: options(.percent(5))).summary.indexRewritten)
        facts.indexObjects = 3
        let plan = try PrunePlan(facts, options: options(.percent(5)))
        XCTAssertTrue(plan.summary.indexRewritten, "several index objects are merged into one")
        XCTAssertFalse(plan.changesPacks)
    }

    func testPartlyUsedPackRepackedOnlyBeyondTheAllowanceAndWithinTheBudget() throws {
        let (a, b) = (Self.id(1), Self.id(2))
        let packs = [Self.pack(0, [Blob(id: a, length: 1000), Blob(id: b, length: 1000)])]
        let ix = try index(packs, used: [a])
        let none = try PrunePlan(PruneFacts(index: ix), options: options(.percent(0)))
        XCTAssertEqual(none.repack, [0])
        XCTAssertEqual(none.summary.blobsRepacked, 1)
        XCTAssertEqual(none.summary.bytesRepacked, packs[0].size)
        XCTAssertEqual(none.summary.unusedBytesKept, 0)
        XCTAssertEqual(none.usedBytesRepacked(ix), 1000)

        let half = try PrunePlan(PruneFacts(index: try index(packs, used: [a])), options: options(.percent(50)))
        XCTAssertEqual(half.repack, [], "1000 unused bytes are within 50% (1000 of 1000 used)")
        XCTAssertEqual(half.keep, [0])
        XCTAssertEqual(half.summary.unusedBytesKept, 1000)

        let bytes = try PrunePlan(PruneFacts(index: try index(packs, used: [a])), options: options(.bytes(999)))
        XCTAssertEqual(bytes.repack, [0])

        let noBudget = try PrunePlan(PruneFacts(index: try index(packs, used: [a])), options: options(.percent(0), repack: packs[0].size - 1))
        XCTAssertEqual(noBudget.repack, [], "the pack is larger than the repack budget")
        XCTAssertEqual(noBudget.keep, [0])
    }

    func testMostWastefulPacksRepackedFirst() throws {
        let ids = (1...6).map { Self.id(UInt8($0)) }
        // Pack 0 is 10% used, pack 1 50%: with room for one, pack 0 goes first.
        let packs = [Self.pack(0, [Blob(id: ids[0], length: 100), Blob(id: ids[1], length: 900)]),
                     Self.pack(1, [Blob(id: ids[2], length: 500), Blob(id: ids[3], length: 500)])]
        let plan = try PrunePlan(PruneFacts(index: try index(packs, used: [ids[0], ids[2]])), options: options(.percent(0), repack: packs[0].size))
        XCTAssertEqual(plan.repack, [0])
        XCTAssertEqual(plan.keep, [1])
        XCTAssertEqual(plan.summary.unusedBytesKept, 500)
    }

    func testDuplicateStaysInThePackMostUsedAndTheOtherCopyGoes() throws {
        let (x, u, w) = (Self.id(1), Self.id(2), Self.id(3))
        // x is in both; pack 1 holds more used bytes for its size, so x stays there.
        let packs = [Self.pack(0, [Blob(id: x), Blob(id: u, length: 900)]), Self.pack(1, [Blob(id: x), Blob(id: w)])]
        let ix = try index(packs, used: [x, w])
        let plan = try PrunePlan(PruneFacts(index: ix), options: options(.percent(5)))
        XCTAssertEqual(plan.delete, [0])
        XCTAssertEqual(plan.keep, [1])
        XCTAssertEqual(plan.summary.usedBlobs, 2, "x counts once, where it stays")
        XCTAssertTrue(ix.chosen[2] && !ix.chosen[0], "the copy in pack 1 is chosen")
    }

    func testDeltaInAKeptPackForcesARepackWhenItsBaseGoes() throws {
        let (base, delta, e) = (Self.id(1), Self.id(2), Self.id(3))
        // Pack 0 keeps e; the unused delta in it needs `base`, whose only pack holds nothing used.
        let packs = [Self.pack(0, [Blob(id: delta, base: base), Blob(id: e)]), Self.pack(1, [Blob(id: base)])]
        let plan = try PrunePlan(PruneFacts(index: try index(packs, used: [e])), options: options(.unlimited))
        XCTAssertEqual(plan.repack, [0], "repacking drops the delta whose base goes")
        XCTAssertEqual(plan.forcedRepack, [0])
        XCTAssertEqual(plan.delete, [1])
        XCTAssertEqual(plan.summary.packsRepackedForDeltas, 1)
        XCTAssertEqual(plan.basesKept, 0)
    }

    func testWithoutRepackBudgetTheDeltaBaseStays() throws {
        let (base, delta, e) = (Self.id(1), Self.id(2), Self.id(3))
        let packs = [Self.pack(0, [Blob(id: delta, base: base), Blob(id: e)]), Self.pack(1, [Blob(id: base)])]
        let plan = try PrunePlan(PruneFacts(index: try index(packs, used: [e])), options: options(.unlimited, repack: 0))
        XCTAssertEqual(plan.repack, [])
        XCTAssertEqual(plan.keep.sorted(), [0, 1], "the base's pack stays for the delta")
        XCTAssertEqual(plan.delete, [])
        XCTAssertEqual(plan.basesKept, 1)
        XCTAssertEqual(plan.summary.deltaBasesKept, 1)
        XCTAssertEqual(plan.summary.undecodableBlobsKept, 0)
    }

    func testDeltaWhoseBaseExistsNowhereIsCountedWhenItMustStay() throws {
        let (base, delta, e) = (Self.id(1), Self.id(2), Self.id(3))
        let packs = [Self.pack(0, [Blob(id: delta, base: base), Blob(id: e)])]
        let stays = try PrunePlan(PruneFacts(index: try index(packs, used: [e])), options: options(.unlimited, repack: 0))
        XCTAssertEqual(stays.keep, [0])
        XCTAssertEqual(stays.undecodableKept, [0: 1])
        XCTAssertEqual(stays.summary.undecodableBlobsKept, 1)
        let repacked = try PrunePlan(PruneFacts(index: try index(packs, used: [e])), options: options(.unlimited))
        XCTAssertEqual(repacked.repack, [0])
        XCTAssertEqual(repacked.summary.undecodableBlobsKept, 0)
    }

    func testObjectLockSetsAsideUnusedAndKeepsPartlyUsedPacks() throws {
        let (a, b, c) = (Self.id(1), Self.id(2), Self.id(3))
        let packs = [Self.pack(0, [Blob(id: a, length: 1000), Blob(id: b, length: 1000)]), Self.pack(1, [Blob(id: c)])]
        var facts = PruneFacts(index: try index(packs, used: [a]))
        XCTAssertEqual(try PrunePlan.packsThatMayGo(facts.index, locked: []), [0, 1])
        XCTAssertEqual(try PrunePlan.packsThatMayGo(facts.index, locked: [1]), [0])
        facts.lockedPacks = [0, 1]
        let plan = try PrunePlan(facts, options: options(.percent(0)))
        XCTAssertEqual(plan.repack, [], "a locked pack is not repacked")
        XCTAssertEqual(plan.delete, [], "a locked pack is not deleted")
        XCTAssertEqual(plan.keep, [0])
        XCTAssertEqual(plan.setAside, [1])
        XCTAssertTrue(plan.changesPacks, "the set-aside pack leaves the index")
        XCTAssertEqual(plan.summary.packsDeleted, 0)
    }

    func testLockedKeptPackWithDanglingDeltaKeepsItsBase() throws {
        let (base, delta, e) = (Self.id(1), Self.id(2), Self.id(3))
        let packs = [Self.pack(0, [Blob(id: delta, base: base), Blob(id: e)]), Self.pack(1, [Blob(id: base)])]
        var facts = PruneFacts(index: try index(packs, used: [e]))
        facts.lockedPacks = [0]
        let plan = try PrunePlan(facts, options: options(.unlimited))
        XCTAssertEqual(plan.repack, [], "budget or not, a locked pack is not repacked")
        XCTAssertEqual(plan.keep.sorted(), [0, 1])
        XCTAssertEqual(plan.basesKept, 1)
    }

    func testSamePlanFromTheSameFacts() throws {
        let ids = (1...8).map { Self.id(UInt8($0)) }
        let packs = (0..<4).map { i in Self.pack(UInt8(i), [Blob(id: ids[2 * i], length: 500), Blob(id: ids[2 * i + 1], length: 500)]) }
        let used = [ids[0], ids[2], ids[4], ids[6]]
        let one = try PrunePlan(PruneFacts(index: try index(packs, used: used)), options: options(.percent(0), repack: 2 * packs[0].size))
        let two = try PrunePlan(PruneFacts(index: try index(packs, used: used)), options: options(.percent(0), repack: 2 * packs[0].size))
        XCTAssertEqual(one.repack, [0, 1], "equal shares: by pack id")
        XCTAssertEqual(one.repack, two.repack)
        XCTAssertEqual(one.keep, two.keep)
    }

    // MARK: small packs (restic's --repack-small)

    /// `count` fully used packs of one 100-byte blob each (164 bytes: far under 1/25 of 64 KiB).
    private func smallPacks(_ count: Int, from first: UInt8 = 0) -> (packs: [IndexedPack], used: [ChunkID]) {
        let ids = (0..<count).map { Self.id(first + UInt8($0) + 1) }
        return (ids.indices.map { Self.pack(first + UInt8($0), [Blob(id: ids[$0])]) }, ids)
    }

    private func facts(_ packs: [IndexedPack], used: [ChunkID], packSize: UInt64 = 1 << 16) throws -> PruneFacts {
        var f = PruneFacts(index: try index(packs, used: used))
        f.packSize = packSize
        return f
    }

    func testTenOrMoreSmallFullyUsedPacksAreCombined() throws {
        let (packs, used) = smallPacks(12)
        let plan = try PrunePlan(try facts(packs, used: used), options: options(.percent(5)))
        XCTAssertEqual(plan.repack.sorted(), Array(0..<12), "every small pack is combined, though none holds an unused byte")
        XCTAssertEqual(plan.keep, [])
        XCTAssertEqual(plan.summary.smallPacksRepacked, 12)
        XCTAssertEqual(plan.summary.blobsRepacked, 12)
        XCTAssertTrue(plan.summary.indexRewritten)
    }

    func testFewerThanTenSmallPacksStay() throws {
        let (packs, used) = smallPacks(9)
        let plan = try PrunePlan(try facts(packs, used: used), options: options(.percent(5)))
        XCTAssertEqual(plan.repack, [], "nine small packs are not worth a rewrite (and one small pack is never repacked over and over)")
        XCTAssertEqual(plan.keep.sorted(), Array(0..<9))
        XCTAssertEqual(plan.summary.smallPacksRepacked, 0)
    }

    func testLargePacksAndLockedSmallPacksAreNotSmall() throws {
        var (packs, used) = smallPacks(10)
        let big = Self.id(150)
        packs.append(Self.pack(10, [Blob(id: big, length: 3000)]))   // 3064 bytes: over 1/25 of 64 KiB
        used.append(big)
        var f = try facts(packs, used: used)
        f.lockedPacks = [0]
        let plan = try PrunePlan(f, options: options(.percent(5)))
        XCTAssertEqual(plan.repack, [], "nine unlocked small packs (a locked one does not count) are under the ten worth combining")
        XCTAssertEqual(plan.keep.sorted(), Array(0...10))

        var more = try facts(packs + smallPacks(1, from: 11).packs, used: used + smallPacks(1, from: 11).used)
        more.lockedPacks = [0]
        let combined = try PrunePlan(more, options: options(.percent(5)))
        XCTAssertEqual(combined.repack.sorted(), Array(1..<10) + [11])
        XCTAssertEqual(combined.keep.sorted(), [0, 10], "a locked pack is never repacked, a pack of 3 KB is not small by default")
    }

    func testRepackSmallRaisesTheLimitToFourFifthsOfThePackSize() throws {
        var (packs, used) = smallPacks(10)
        let big = Self.id(150)
        packs.append(Self.pack(10, [Blob(id: big, length: 3000)]))
        used.append(big)
        var o = options(.percent(5))
        o.repackSmall = true
        let plan = try PrunePlan(try facts(packs, used: used, packSize: 4096), options: o)
        XCTAssertEqual(plan.repack.sorted(), Array(0..<11), "3064 bytes is under 4/5 of 4096")
        let full = try PrunePlan(try facts(packs, used: used, packSize: 3800), options: o)
        XCTAssertEqual(full.keep, [10], "3064 bytes is over 4/5 of 3800: full enough")
        XCTAssertEqual(full.repack.sorted(), Array(0..<10))
    }

    func testSmallPacksRespectTheRepackBudgetSmallestFirst() throws {
        var (packs, used) = smallPacks(10)
        let bigger = Self.id(160)
        packs.append(Self.pack(10, [Blob(id: bigger, length: 200)]))   // 264 bytes, still small
        used.append(bigger)
        let plan = try PrunePlan(try facts(packs, used: used), options: options(.percent(5), repack: 10 * 164))
        XCTAssertEqual(plan.repack.sorted(), Array(0..<10), "the ten smallest fit the budget")
        XCTAssertEqual(plan.keep, [10])
        let none = try PrunePlan(try facts(packs, used: used), options: options(.percent(5), repack: 0))
        XCTAssertEqual(none.repack, [], "--max-repack 0 only deletes")
    }

    func testSmallPartlyUsedPacksAreCombinedWhateverMaxUnusedAllows() throws {
        var (packs, used) = smallPacks(10)
        let unused = Self.id(170)
        packs.append(Self.pack(10, [Blob(id: Self.id(171)), Blob(id: unused)]))
        used.append(Self.id(171))
        let plan = try PrunePlan(try facts(packs, used: used), options: options(.unlimited))
        XCTAssertEqual(plan.repack.sorted(), Array(0..<11))
        XCTAssertEqual(plan.summary.unusedBytesKept, 0)
    }
}

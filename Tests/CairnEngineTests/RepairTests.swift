@testable import CairnEngine
import CairnFormat
import CairnStorage
import CairnTestSupport
import XCTest

final class RepairTests: XCTestCase {
    func testRepairFromAReplicaMakesEverythingRestorable() async throws {
        let f = try await DamageFixture.make()
        let replica = try await f.replica()
        let (pack, offset) = try await f.packOfFirstChunk("alpha")
        flipBit(f.mem, pack, at: Int(offset) + 40)
        let (p2, _) = try await f.packOfFirstChunk("beta")
        if p2 != pack { try await f.mem.delete(p2) }
        let report = try await f.scrub()
        XCTAssertFalse(report.isClean)
        let repo = try await f.open()
        let source = try await f.open(replica)
        let r = try await Repairer(repo: repo).repair(report: report, from: source)
        XCTAssertEqual(r.unrecoverable, [])
        XCTAssertGreaterThan(r.fetched, 0)
        let after = try await f.scrub()
        XCTAssertTrue(after.isClean, "\(after.packProblems) \(after.blobProblems)")
        let alphaOK = await f.restores("alpha"), betaOK = await f.restores("beta")
        XCTAssertTrue(alphaOK); XCTAssertTrue(betaOK)
        // The damaged packs are gone from the store.
        let gone = try await f.mem.size(pack)
        XCTAssertNil(gone)
    }

    func testRepairByRechunkingFromAnUnrelatedRepository() async throws {
        let f = try await DamageFixture.make()
        // Another repository (other keys, other chunker seed) holding the same streams under the same names.
        let other = try await TestRepository.make(profiles: DamageFixture.profiles)
        for (name, data) in f.streams { _ = try await backupStream(other.repo, data, name: name) }
        try await f.mem.delete(try await f.packOfFirstChunk("alpha").key)
        let report = try await f.scrub()
        let r = try await Repairer(repo: try await f.open()).repair(report: report, from: other.repo)
        XCTAssertEqual(r.fetched, 0, "different seeds share no chunk ids")
        XCTAssertGreaterThan(r.rechunked, 0)
        XCTAssertEqual(r.unrecoverable, [])
        let after = try await f.scrub()
        XCTAssertTrue(after.isClean)
        let ok = await f.restores("alpha")
        XCTAssertTrue(ok)
    }

    func testRepairSnapshotsZeroFillsWhatExistsNowhere() async throws {
        let f = try await DamageFixture.make()
        let (pack, offset) = try await f.packOfFirstChunk("alpha")
        flipBit(f.mem, pack, at: Int(offset) + 40)
        // Without a replica the one bad blob cannot come back: move the rest out, then rewrite the snapshot.
        var report = try await f.scrub()
        let blobs = try await Repairer(repo: try await f.open()).repair(report: report, from: nil)
        XCTAssertEqual(blobs.unrecoverable.count, 1)
        report = try await f.scrub()
        let repo = try await f.open()
        let rewritten = try await SnapshotRepairer(repo: repo).repair(report: report)
        XCTAssertEqual(rewritten.count, 1)
        XCTAssertEqual(rewritten[0].old.hex, f.ids["alpha"])
        let lost = try XCTUnwrap(rewritten[0].losses["/alpha"])
        XCTAssertTrue(lost.hasPrefix("0-") && lost.hasSuffix("zero-filled"), lost)
        // What survives restores: same length, zeros where the lost chunk was, everything else identical.
        let back = try await restoreStream(repo, rewritten[0].new.hex)
        let original = f.streams["alpha"]!
        XCTAssertEqual(back.count, original.count)
        let end = Int(lost.split(separator: "-")[1].split(separator: " ")[0])!
        XCTAssertTrue(back[0...end].allSatisfy { $0 == 0 })
        XCTAssertTrue(back[(end + 1)...] == original[(end + 1)...])
        let record = try repo.resolveSnapshot(rewritten[0].new.hex)
        XCTAssertTrue(record.snapshot.tags.contains("repaired"))
        XCTAssertEqual(record.snapshot.extra["lost:/alpha"], lost)
        let after = try await f.scrub()
        XCTAssertTrue(after.isClean, "\(after.affected)")
    }

    func testIndexRebuildFromPacksAloneRestoresByteForByte() async throws {
        let f = try await DamageFixture.make()
        for k in try await f.mem.list(.index) { try await f.mem.delete(k) }
        let repo = try await f.open()
        let r = try await IndexRebuilder(repo: repo, readAllPacks: true).rebuild()
        XCTAssertEqual(r.headersRead, r.packs)
        let alphaOK = await f.restores("alpha"), betaOK = await f.restores("beta")
        XCTAssertTrue(alphaOK); XCTAssertTrue(betaOK)
        let after = try await f.scrub()
        XCTAssertTrue(after.isClean)
    }
}

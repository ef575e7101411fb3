@testable import CairnEngine
@testable import CairnRepository
import CairnFormat
import CairnStorage
import CairnTestSupport
import XCTest

final class ScrubTests: XCTestCase {
    func testCleanRepositoryScrubsClean() async throws {
        let f = try await DamageFixture.make()
        let r = try await f.scrub()
        XCTAssertTrue(r.isClean, "\(r)")
        XCTAssertEqual(r.snapshotsChecked, 2)
        XCTAssertGreaterThan(r.blobsVerified, 50)
        XCTAssertEqual(r.packsRead, r.packsChecked)
    }

    func testBitFlipInABlobIsFoundOnlyByReadDataAndNamesThePath() async throws {
        let f = try await DamageFixture.make()
        let (pack, offset) = try await f.packOfFirstChunk("alpha")
        flipBit(f.mem, pack, at: Int(offset) + 40)
        let structural = try await f.scrub(readData: false)
        XCTAssertTrue(structural.isClean, "a flipped data byte is invisible without reading data")
        let r = try await f.scrub()
        XCTAssertFalse(r.isClean)
        XCTAssertEqual(r.packProblems.map(\.pack), [pack.name])
        XCTAssertTrue(r.packProblems[0].problem.contains("does not match its name"))
        XCTAssertEqual(r.blobProblems.count, 1)
        XCTAssertEqual(r.affected.count, 1)
        XCTAssertEqual(r.affected[0].snapshot, f.ids["alpha"])
        XCTAssertEqual(r.affected[0].path, "/alpha")
        XCTAssertEqual(r.affected[0].ranges.first?.lowerBound, 0, "the first chunk's bytes start at 0")
        // The other snapshot still restores; the damaged one fails loudly.
        let betaOK = await f.restores("beta")
        let alphaOK = await f.restores("alpha")
        XCTAssertTrue(betaOK)
        XCTAssertFalse(alphaOK)
    }

    func testPackHeaderFlipTruncationDeletionAndSwap() async throws {
        // Header flip: found by the structural pass.
        var f = try await DamageFixture.make()
        var (pack, _) = try await f.packOfFirstChunk("alpha")
        let size = Int(try await f.mem.size(pack)!)
        flipBit(f.mem, pack, at: size - 10)
        var r = try await f.scrub(readData: false)
        XCTAssertEqual(r.packProblems.map(\.pack), [pack.name])
        XCTAssertTrue(r.packProblems[0].problem.contains("header unreadable"), r.packProblems[0].problem)
        XCTAssertTrue(r.affectedSnapshots.contains(f.ids["alpha"]!))

        // Truncation.
        f = try await DamageFixture.make()
        (pack, _) = try await f.packOfFirstChunk("beta")
        f.mem.tamper(pack) { Array($0.prefix($0.count - 100)) }
        r = try await f.scrub(readData: false)
        XCTAssertTrue(r.packProblems.first?.problem.contains("size") ?? false)
        XCTAssertEqual(r.affectedSnapshots, [f.ids["beta"]!])

        // Deletion.
        f = try await DamageFixture.make()
        (pack, _) = try await f.packOfFirstChunk("beta")
        try await f.mem.delete(pack)
        r = try await f.scrub(readData: false)
        XCTAssertEqual(r.packProblems.first?.problem, "missing from the store")
        XCTAssertEqual(r.affectedSnapshots, [f.ids["beta"]!])
        let alphaOK = await f.restores("alpha")
        XCTAssertTrue(alphaOK)

        // Two packs' contents swapped under each other's names.
        f = try await DamageFixture.make()
        let packs = try await f.mem.list(.data)
        let a = try await f.mem.get(packs[0]), b = try await f.mem.get(packs[1])
        try await f.mem.put(packs[0], b); try await f.mem.put(packs[1], a)
        r = try await f.scrub()
        XCTAssertEqual(Set(r.packProblems.map(\.pack)), Set([packs[0].name, packs[1].name]))
    }

    func testDamagedTreeIndexObjectAndKeyFile() async throws {
        var f = try await DamageFixture.make()
        let (pack, offset) = try await f.packOfRootTree("beta")
        flipBit(f.mem, pack, at: Int(offset) + 30)
        var r = try await f.scrub()
        XCTAssertTrue(r.affected.contains { $0.snapshot == f.ids["beta"] && $0.path == "/" && $0.ranges.isEmpty }, "\(r.affected)")

        f = try await DamageFixture.make()
        let index = try await f.mem.list(.index)[0]
        flipBit(f.mem, index, at: 20)
        r = try await f.scrub(readData: false)
        XCTAssertEqual(r.objectProblems.map(\.object), ["index/\(index.name)"])
        XCTAssertFalse(r.isClean)

        f = try await DamageFixture.make()
        _ = try await KeyManager(repo: f.t.repo).add(passphrase: Array("spare".utf8), parameters: ScryptParameters(logN: 10, r: 8, p: 1))
        let spare = try await f.mem.list(.keys).first { $0.name != f.t.repo.keyID }!
        f.mem.tamper(spare) { Array($0.prefix(20)) }
        r = try await f.scrub(readData: false)
        XCTAssertEqual(r.objectProblems.map(\.object), ["keys/\(spare.name)"])
    }

    func testSlicesCoverEveryPackOnceAndMaxAgeSkips() async throws {
        let f = try await DamageFixture.make()
        let repo = try await f.open()
        var total = 0
        for n in 1...3 {
            var o = ScrubOptions(); o.readData = true; o.subset = .slice(n, 3)
            total += try await Checker(repo: repo, options: o).run().packsRead
        }
        let packCount = try await f.mem.list(.data).count
        XCTAssertEqual(total, packCount)
        var o = ScrubOptions(); o.readData = true; o.maxAgeSeconds = 3600
        let again = try await Checker(repo: repo, options: o).run()
        XCTAssertEqual(again.packsRead, 0)
        XCTAssertEqual(again.packsSkippedRecent, total)
        XCTAssertEqual(ScrubOptions.parseSubset("2/7"), .slice(2, 7))
        XCTAssertEqual(ScrubOptions.parseSubset("10%"), .fraction(0.1))
        XCTAssertNil(ScrubOptions.parseSubset("8/7"))
    }

    func testCorruptCacheIsRebuiltFromTheStore() async throws {
        let f = try await DamageFixture.make()
        let path = "\(f.t.cache)/\(f.t.repo.config.repositoryIDHex)/index.sqlite"
        try Data((0..<4096).map { _ in UInt8.random(in: 0...255) }).write(to: URL(fileURLWithPath: path))
        unlink(path + "-wal"); unlink(path + "-shm")
        let reopened = try await Repository.open(store: f.mem, passphrase: TestRepository.passphrase, cacheBase: f.t.cache)
        let ok = await f.restores("alpha", using: reopened)
        XCTAssertTrue(ok)
    }
}

@testable import CairnEngine
@testable import CairnRepository
import CairnCrypto
import CairnFormat
import CairnStorage
import CairnTestSupport
import Foundation
import XCTest

/// A copy between two repositories on local disk that share their master
/// keys stores whole packs through `LocalPackCopier` (the kernel copies each
/// pack's file, the copy is hashed, packs are made durable and recorded in
/// batches): the replica holds the source's packs byte for byte, nothing is
/// left in `tmp/`, and a batch that fails half-way leaves only complete packs,
/// which a resumed copy names or copies again.
final class LocalPackCopierTests: XCTestCase {
    private var dirs: [String] = []

    override func tearDown() {
        for d in dirs { try? FileManager.default.removeItem(atPath: d) }
        super.tearDown()
    }

    private func directory() -> String {
        let d = NSTemporaryDirectory() + "cairn-localpack-\(UUID().uuidString)"
        dirs.append(d)
        return d
    }

    private func replica(of source: Repository, root: String) async throws -> Repository {
        var options = Repository.CreateOptions()
        options.scrypt = ScryptParameters(logN: 10, r: 8, p: 1)
        options.packSize = 1 << 20
        options.profiles = source.config.profiles
        options.keyring = source.keys
        return try await Repository.create(store: LocalStore(root: root), passphrase: Array("replica".utf8),
                                           cacheBase: directory(), options: options)
    }

    /// Every file under `root/data`, by name, and whether its bytes hash to its name.
    private func packFiles(_ root: String) throws -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for sub in try FileManager.default.contentsOfDirectory(atPath: "\(root)/data") {
            for name in try FileManager.default.contentsOfDirectory(atPath: "\(root)/data/\(sub)") {
                out[name] = Array(try Data(contentsOf: URL(fileURLWithPath: "\(root)/data/\(sub)/\(name)")))
            }
        }
        return out
    }

    private func source(days: Int) async throws -> (repo: TestRepository, root: String) {
        let root = directory()
        let source = try await TestRepository.make(store: LocalStore(root: root))
        for day in 0..<days { _ = try await backupStream(source.repo, pseudoRandomBytes(1_500_000, seed: UInt64(day)), name: "blob") }
        return (source, root)
    }

    func testPacksArriveByteForByteInBatchesAndNothingStaysInTmp() async throws {
        try await packsArriveByteForByte(directWrites: true)
    }

    /// The same through the page cache alone (a file system without direct I/O).
    func testPacksArriveByteForByteThroughThePageCache() async throws {
        try await packsArriveByteForByte(directWrites: false)
    }

    private func packsArriveByteForByte(directWrites: Bool) async throws {
        let (source, sourceRoot) = try await source(days: 3)
        let replicaRoot = directory()
        let replica = try await replica(of: source.repo, root: replicaRoot)
        let copier = try Copier(source: source.repo, destination: replica)
        copier.localDirectWrites = directWrites
        let report = try await copier.copy(try source.repo.snapshots())
        XCTAssertNotNil(copier.localPacks, "both stores are on local disk: packs go through LocalPackCopier")
        XCTAssertEqual(copier.localPacks?.directWrites, directWrites)

        let sourcePacks = try packFiles(sourceRoot), replicaPacks = try packFiles(replicaRoot)
        XCTAssertEqual(report.packsCopiedWhole, sourcePacks.count)
        XCTAssertEqual(Set(replicaPacks.keys), Set(sourcePacks.keys), "the replica holds the source's packs and no other")
        for (name, bytes) in sourcePacks { XCTAssertTrue(replicaPacks[name] == bytes, "pack \(name.prefix(8)) copied as it is") }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "\(replicaRoot)/tmp"), [], "no staging file is left")

        // A new machine (empty cache) finds every pack named by an index object, restores every day and scrubs clean.
        let fresh = try await Repository.open(store: LocalStore(root: replicaRoot), passphrase: Array("replica".utf8), cacheBase: directory())
        for (day, record) in try fresh.snapshots().sorted(by: { $0.snapshot.timeNanos < $1.snapshot.timeNanos }).enumerated() {
            let back = try await restoreStream(fresh, record.id.hex)
            XCTAssertTrue(back == pseudoRandomBytes(1_500_000, seed: UInt64(day)), "day \(day)")
        }
        var so = ScrubOptions(); so.readData = true
        let scrub = try await Checker(repo: fresh, options: so).run()
        XCTAssertTrue(scrub.isClean, "\(scrub.packProblems) \(scrub.blobProblems)")
    }

    func testABatchThatFailsHalfWayLeavesCompletePacksThatAResumedCopyNamesOrCopiesAgain() async throws {
        let (source, sourceRoot) = try await source(days: 4)
        let sourcePacks = try packFiles(sourceRoot)
        XCTAssertGreaterThan(sourcePacks.count, 3)
        let replicaRoot = directory()
        let replica = try await replica(of: source.repo, root: replicaRoot)
        // One pack's place is taken by a directory: its rename fails in the middle of a batch.
        let blocked = try XCTUnwrap(sourcePacks.keys.sorted()[sourcePacks.count / 2])
        try FileManager.default.createDirectory(atPath: "\(replicaRoot)/data/\(blocked.prefix(2))/\(blocked)/x", withIntermediateDirectories: true)
        do {
            _ = try await Copier(source: source.repo, destination: replica).copy(try source.repo.snapshots())
            XCTFail("the copy succeeded although a pack could not be put in place")
        } catch {}
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "\(replicaRoot)/tmp"), [], "no staging file is left")
        try FileManager.default.removeItem(atPath: "\(replicaRoot)/data/\(blocked.prefix(2))/\(blocked)")
        // Whatever reached data/ is whole: each pack is the source's, byte for byte.
        let partial = try packFiles(replicaRoot)
        XCTAssertLessThan(partial.count, sourcePacks.count)
        for (name, bytes) in partial {
            XCTAssertTrue(sourcePacks[name] == bytes, "pack \(name.prefix(8)) in the replica is complete")
            XCTAssertEqual(SHA256.packID(bytes).hex, name)
        }
        let committed = try replica.snapshots().count
        XCTAssertLessThan(committed, 4, "the snapshot whose pack failed is not committed")
        // Every pack an index object names is in place (a new machine's view).
        let after = try await Repository.open(store: LocalStore(root: replicaRoot), passphrase: Array("replica".utf8), cacheBase: directory())
        var so = ScrubOptions(); so.readData = true
        let midway = try await Checker(repo: after, options: so).run()
        XCTAssertTrue(midway.packProblems.isEmpty, "\(midway.packProblems)")

        // Resumed: everything arrives, restores and scrubs clean; no pack is stored twice.
        let report = try await Copier(source: source.repo, destination: after).copy(try source.repo.snapshots())
        XCTAssertEqual(report.copied.count, 4 - committed)
        XCTAssertEqual(report.skipped.count, committed)
        XCTAssertEqual(Set(try packFiles(replicaRoot).keys), Set(sourcePacks.keys))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "\(replicaRoot)/tmp"), [])
        let fresh = try await Repository.open(store: LocalStore(root: replicaRoot), passphrase: Array("replica".utf8), cacheBase: directory())
        for (day, record) in try fresh.snapshots().sorted(by: { $0.snapshot.timeNanos < $1.snapshot.timeNanos }).enumerated() {
            let back = try await restoreStream(fresh, record.id.hex)
            XCTAssertTrue(back == pseudoRandomBytes(1_500_000, seed: UInt64(day)), "day \(day)")
        }
        let scrub = try await Checker(repo: fresh, options: so).run()
        XCTAssertTrue(scrub.isClean, "\(scrub.packProblems) \(scrub.blobProblems)")
    }
}

@testable import CairnEngine
@testable import CairnRepository
import CairnFormat
import CairnStorage
import CairnTestSupport
import Foundation
import Synchronization
import XCTest

/// Counts the ranged reads of each pack.
final class PackReadCountingStore: ObjectStore {
    let base: any ObjectStore
    private let reads = Mutex<[String: Int]>([:])
    init(_ base: any ObjectStore) { self.base = base }
    var location: String { base.location }
    /// Reads per pack since the last `reset`.
    var packReads: [String: Int] { reads.withLock { $0 } }
    func reset() { reads.withLock { $0 = [:] } }
    func put(_ key: ObjectKey, _ bytes: [UInt8]) async throws { try await base.put(key, bytes) }
    func get(_ key: ObjectKey) async throws -> [UInt8] {
        if key.namespace == .data { reads.withLock { $0[key.name, default: 0] += 1 } }
        return try await base.get(key)
    }
    func get(_ key: ObjectKey, offset: UInt64, length: Int) async throws -> [UInt8] {
        if key.namespace == .data { reads.withLock { $0[key.name, default: 0] += 1 } }
        return try await base.get(key, offset: offset, length: length)
    }
    func size(_ key: ObjectKey) async throws -> UInt64? { try await base.size(key) }
    func list(_ namespace: ObjectNamespace) async throws -> [ObjectKey] { try await base.list(namespace) }
    func delete(_ key: ObjectKey) async throws { try await base.delete(key) }
}

/// A tree restore works pack by pack (`RestorePlan`): each pack's needed blobs
/// are read once however many files share them, each blob is written to
/// every file and offset that needs it, and damage still fails the files it
/// touches, naming the first in walk order, while the files before it are
/// restored.
final class PackPlanRestoreTests: XCTestCase {
    let small = [ChunkerProfile(name: "file", minimumSize: 2048, averageSize: 8192, maximumSize: 32768)]

    /// Small files, a few larger ones, a file that repeats one block, one empty file, in two directories.
    func makeTree(_ src: String) throws -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        try FileManager.default.createDirectory(atPath: src + "/many", withIntermediateDirectories: true)
        for i in 0..<120 {
            files[String(format: "many/s%03d", i)] = pseudoRandomBytes(1000 + (i * 977) % 15_000, seed: UInt64(i + 1))
        }
        for i in 0..<3 { files["large\(i)"] = pseudoRandomBytes(400_000 + i * 50_000, seed: UInt64(500 + i)) }
        let block = pseudoRandomBytes(40_000, seed: 900)
        files["repeats"] = block + block + block + pseudoRandomBytes(5000, seed: 901) + block
        files["empty"] = []
        for (rel, bytes) in files { try Data(bytes).write(to: URL(fileURLWithPath: "\(src)/\(rel)")) }
        return files
    }

    func check(_ files: [String: [UInt8]], under out: String, file: StaticString = #filePath, line: UInt = #line) {
        for (rel, bytes) in files {
            XCTAssertEqual([UInt8](FileManager.default.contents(atPath: "\(out)/\(rel)") ?? Data([1])), bytes, rel, file: file, line: line)
        }
    }

    /// The packs holding the data chunks of `files`' nodes under `root`.
    func dataPacks(_ repo: Repository, root: ChunkID) async throws -> Set<String> {
        var packs = Set<String>()
        try await TreeWalker.walk(root, load: { try await repo.loadTree($0) }, visit: { _, node in
            guard node.kind == .file else { return }
            try await ListExpander.expand(node.content, readList: { try await repo.readBlob(.list, $0) }, data: { ids in
                for id in ids { packs.insert(try XCTUnwrap(try repo.index.lookup(id, type: .data)).pack.hex) }
            })
        })
        return packs
    }

    func testEachPackIsReadOnceAndEveryFileComesBackExactly() async throws {
        let dir = NSTemporaryDirectory() + "cairn-plan-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = try makeTree(dir + "/src")
        let t = try await TestRepository.make(profiles: small, packSize: 256 << 10)
        var options = rootLayoutOptions("tree")
        options.profile = "file"
        let r = try await Archiver(repo: t.repo, options: options).backup(paths: [dir + "/src"])

        // A new machine: a fresh cache; the trees are read (and cached) first, then every pack read is counted.
        let counting = PackReadCountingStore(t.store)
        let repo = try await Repository.open(store: counting, passphrase: TestRepository.passphrase,
                                             cacheBase: TestCacheDirectory.make())
        let record = try repo.resolveSnapshot(r.snapshotID)
        let packs = try await dataPacks(repo, root: record.snapshot.root)
        XCTAssertGreaterThanOrEqual(packs.count, 6, "the tree spans several packs")
        counting.reset()
        let result = try await Restorer(repo: repo, snapshot: record).restore(to: dir + "/out")
        XCTAssertEqual(result.files, UInt64(files.count))
        check(files, under: dir + "/out/src")
        XCTAssertEqual(Set(counting.packReads.keys), packs, "exactly the packs holding the content are read")
        XCTAssertEqual(counting.packReads.filter { $0.value != 1 }, [:], "each pack is read once")

        // Plans far smaller than the tree (files continued from plan to plan, several plans at once): the same files.
        for (blobs, files_, inFlight) in [(1, 1, 1), (7, 3, 3), (50, 10, 2)] {
            var restorer = Restorer(repo: repo, snapshot: record)
            restorer.planLimits = RestorePlan.Limits(blobs: blobs, files: files_, directories: 2)
            restorer.plansInFlight = inFlight
            restorer.packsInFlight = inFlight
            let out = dir + "/out-\(blobs)"
            _ = try await restorer.restore(to: out)
            check(files, under: out + "/src")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out), ["src"], "no marker or temporary file left")
        }
    }

    func testDeltaBlobsRestoreExactlyThroughTheTreeRestore() async throws {
        let dir = NSTemporaryDirectory() + "cairn-plan-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let t = try await TestRepository.make()
        _ = try await backupStream(t.repo, dumpLikeStream(day: 0), name: "pg")
        let day1 = try await backupStream(t.repo, dumpLikeStream(day: 1), name: "pg")
        let view = try await StoreIndexSnapshot.load(t.repo)
        XCTAssertTrue(view.blobs.values.contains { $0.base != nil }, "day 1 holds delta blobs")
        let repo = try await t.reopen()
        let record = try repo.resolveSnapshot(day1.snapshotID)
        for blobs in [32_768, 3] {
            var restorer = Restorer(repo: repo, snapshot: record)
            restorer.planLimits = RestorePlan.Limits(blobs: blobs, files: 2048, directories: 256)
            let out = dir + "/out-\(blobs)"
            let result = try await restorer.restore(to: out)
            XCTAssertEqual(result.files, 1)
            let root = try await repo.loadTree(record.snapshot.root)
            let name = try XCTUnwrap(root.nodes.first?.displayName)
            XCTAssertTrue([UInt8](FileManager.default.contents(atPath: "\(out)/\(name)") ?? Data()) == dumpLikeStream(day: 1),
                          "the dump restores byte for byte through its delta blobs (plans of \(blobs) chunks)")
        }
    }

    func testADamagedOrMissingPackFailsItsFilesNamingTheFirstAndRestoresTheFilesBefore() async throws {
        let dir = NSTemporaryDirectory() + "cairn-plan-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var files: [String: [UInt8]] = [:]
        try FileManager.default.createDirectory(atPath: dir + "/src", withIntermediateDirectories: true)
        for i in 0..<16 {
            let rel = String(format: "f%02d", i)
            files[rel] = pseudoRandomBytes(60_000, seed: UInt64(70 + i))
            try Data(files[rel]!).write(to: URL(fileURLWithPath: "\(dir)/src/\(rel)"))
        }
        let mem = MemoryStore()
        let t = try await TestRepository.make(store: mem, profiles: small, packSize: 256 << 10)
        var options = rootLayoutOptions("tree")
        options.profile = "file"
        let r = try await Archiver(repo: t.repo, options: options).backup(paths: [dir + "/src"])
        let record = try t.repo.resolveSnapshot(r.snapshotID)
        let root = try await t.repo.loadTree(record.snapshot.root)
        let src = try await t.repo.loadTree(try XCTUnwrap(root.nodes.first?.subtree))
        let victim = try XCTUnwrap(src.node(named: Array("f09".utf8)))
        let chunk = try XCTUnwrap(victim.content.ids.first)
        let loc = try XCTUnwrap(try t.repo.index.lookup(chunk, type: .data))
        // The files in walk order before the first one with content in that pack.
        var firstInPack = ""
        for node in src.nodes where firstInPack.isEmpty {
            if try node.content.ids.contains(where: { try t.repo.index.lookup($0, type: .data)?.pack == loc.pack }) { firstInPack = node.displayName }
        }
        XCTAssertLessThanOrEqual(firstInPack, "f09")

        func restoreFails(_ out: String, _ expect: (String, String) -> Void) async throws {
            do {
                _ = try await Restorer(repo: try await t.reopen(), snapshot: record).restore(to: out)
                XCTFail("the restore succeeded")
            } catch let e as CairnError {
                guard case .restoreFailed(_, let path, let reason) = e else { return XCTFail("\(e)") }
                expect(path, reason)
            }
            for (rel, bytes) in files {
                let got = FileManager.default.contents(atPath: "\(out)/src/\(rel)").map { [UInt8]($0) }
                if rel < firstInPack { XCTAssertEqual(got, bytes, "\(rel), before the damage in walk order, is restored") }
                // Whatever else is there under a final name was verified.
                if let got { XCTAssertEqual(got, bytes, rel) }
            }
            let left = try FileManager.default.contentsOfDirectory(atPath: out)
            XCTAssertEqual(left.sorted(), [".cairn-restore-incomplete", "src"], "the marker says the restore did not finish")
        }

        // One blob damaged: its file fails, named with the blob.
        mem.tamper(ObjectKey(.data, loc.pack.hex)) { var b = $0; b[Int(loc.offset) + 20] ^= 0x10; return b }
        try await restoreFails(dir + "/out-damaged") { path, reason in
            XCTAssertEqual(path, "src/f09")
            XCTAssertTrue(reason.contains("damaged") && reason.contains(chunk.hex), reason)
        }
        XCTAssertNil(FileManager.default.contents(atPath: dir + "/out-damaged/src/f09"), "no unverified file under its final name")

        // The whole pack gone: the first file in walk order that needed it is named, with the pack.
        try await mem.delete(ObjectKey(.data, loc.pack.hex))
        try await restoreFails(dir + "/out-missing") { path, reason in
            XCTAssertEqual(path, "src/" + firstInPack)
            XCTAssertTrue(reason.contains("missing") && reason.contains(loc.pack.hex), reason)
        }
    }
}

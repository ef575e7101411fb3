@testable import CairnEngine
@testable import CairnRepository
import CairnFormat
import CairnStorage
import CairnTestSupport
import Foundation
import XCTest

/// A tree of many files restores several files at once: the result must be
/// the same as one at a time, and a damaged chunk must still fail the restore
/// naming its file, with nothing unverified left under a final name.
final class ConcurrentRestoreTests: XCTestCase {
    let small = [ChunkerProfile(name: "dump", minimumSize: 1024, averageSize: 4096, maximumSize: 16384)]

    /// Files of varied sizes (empty to several windows), a hole, in nested directories.
    func makeTree(_ src: String) throws -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        for d in 0..<4 {
            let dir = "\(src)/d\(d)/sub"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for f in 0..<10 {
                let size = [0, 1, 700, 5_000, 40_000, 150_000][(d + f) % 6]
                let rel = "d\(d)/\(f % 2 == 0 ? "" : "sub/")f\(f)"
                var bytes = pseudoRandomBytes(size, seed: UInt64(d * 100 + f))
                if size == 150_000 { bytes.replaceSubrange(40_000..<110_000, with: [UInt8](repeating: 0, count: 70_000)) }
                try Data(bytes).write(to: URL(fileURLWithPath: "\(src)/\(rel)"))
                files[rel] = bytes
            }
        }
        return files
    }

    func testManyFilesRestoreIdenticallyWithConcurrency() async throws {
        let dir = NSTemporaryDirectory() + "cairn-conc-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = try makeTree(dir + "/src")
        // Directory times are set after their files: compare them with the source's.
        let past = Date(timeIntervalSince1970: 1_600_000_000)
        try FileManager.default.setAttributes([.modificationDate: past], ofItemAtPath: dir + "/src/d1/sub")
        let t = try await TestRepository.make(profiles: small)
        var options = BackupOptions(name: "tree")
        options.fullPaths = false   // the tree at the root: restored as out/src
        options.profile = "dump"
        let r = try await Archiver(repo: t.repo, options: options).backup(paths: [dir + "/src"])
        let record = try t.repo.resolveSnapshot(r.snapshotID)
        // Small plans: files span many plans, several run at once; one plan at a time, one span at a time as the reference.
        for (blobs, concurrent) in [(3, 1), (3, 6), (32, 4), (32_768, 2)] {
            let out = dir + "/out-\(blobs)-\(concurrent)"
            var restorer = Restorer(repo: try await t.reopen(), snapshot: record)
            restorer.planLimits = RestorePlan.Limits(blobs: blobs, files: blobs < 10 ? 3 : 512, directories: blobs < 10 ? 2 : 128)
            restorer.plansInFlight = concurrent
            restorer.packsInFlight = concurrent
            let result = try await restorer.restore(to: out)
            XCTAssertEqual(result.files, UInt64(files.count))
            XCTAssertEqual(result.bytes, files.values.reduce(0) { $0 + UInt64($1.count) })
            // Progress is counted a batch at a time: every file and byte once, none twice.
            XCTAssertEqual(restorer.progress.counters.filesDone, UInt64(files.count))
            XCTAssertEqual(restorer.progress.counters.bytesDone, result.bytes)
            for (rel, bytes) in files {
                XCTAssertEqual([UInt8](FileManager.default.contents(atPath: "\(out)/src/\(rel)") ?? Data([1])), bytes, "\(rel) with \(concurrent) files at once")
            }
            let mtime = try FileManager.default.attributesOfItem(atPath: "\(out)/src/d1/sub")[.modificationDate] as? Date
            XCTAssertEqual(mtime, past)
            XCTAssertEqual(try leftovers(out), [])
        }
    }

    func testDamagedChunkInOneOfManyFilesFailsNamingIt() async throws {
        let dir = NSTemporaryDirectory() + "cairn-conc-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try makeTree(dir + "/src")
        let mem = MemoryStore()
        let t = try await TestRepository.make(store: mem, profiles: small)
        var options = BackupOptions(name: "tree")
        options.fullPaths = false   // the tree at the root: restored as out/src
        options.profile = "dump"
        let r = try await Archiver(repo: t.repo, options: options).backup(paths: [dir + "/src"])
        // The last chunk of d2/sub/f3 (40 000 bytes: several chunks).
        let root = try await t.repo.loadTree(r.snapshot.root)
        let src = try await t.repo.loadTree(try XCTUnwrap(root.nodes[0].subtree))
        let d2 = try await t.repo.loadTree(try XCTUnwrap(src.node(named: Array("d2".utf8))?.subtree))
        let sub = try await t.repo.loadTree(try XCTUnwrap(d2.node(named: Array("sub".utf8))?.subtree))
        let victim = try XCTUnwrap(sub.node(named: Array("f3".utf8)))
        XCTAssertEqual(victim.content.level, 0)
        let chunk = try XCTUnwrap(victim.content.ids.last)
        let loc = try XCTUnwrap(try t.repo.index.lookup(chunk, type: .data))
        mem.tamper(ObjectKey(.data, loc.pack.hex)) { var b = $0; b[Int(loc.offset) + 20] ^= 0x10; return b }
        // And the first chunk of d3/f0, a small file later in walk order that fails sooner:
        // the error still names the first damaged file in walk order, as a one-at-a-time restore would.
        let d3 = try await t.repo.loadTree(try XCTUnwrap(src.node(named: Array("d3".utf8))?.subtree))
        let later = try XCTUnwrap(d3.node(named: Array("f0".utf8))?.content.ids.first)
        let laterLoc = try XCTUnwrap(try t.repo.index.lookup(later, type: .data))
        mem.tamper(ObjectKey(.data, laterLoc.pack.hex)) { var b = $0; b[Int(laterLoc.offset) + 20] ^= 0x10; return b }

        for concurrent in [1, 4, 12] {
            let out = dir + "/out-\(concurrent)"
            var restorer = Restorer(repo: try await t.reopen(), snapshot: try t.repo.resolveSnapshot(r.snapshotID))
            restorer.planLimits = RestorePlan.Limits(blobs: 2, files: 4, directories: 2)
            restorer.plansInFlight = concurrent
            do {
                _ = try await restorer.restore(to: out)
                XCTFail("a restore with a damaged chunk succeeded")
            } catch let e as CairnError {
                guard case .restoreFailed(_, let path, let reason) = e else { return XCTFail("\(e)") }
                XCTAssertEqual(path, "src/d2/sub/f3")
                XCTAssertTrue(reason.contains("damaged") && reason.contains(chunk.hex), reason)
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/src/d2/sub/f3"), "no unverified file under its final name")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/src/d3/f0"), "no unverified file under its final name")
            XCTAssertEqual(try leftovers(out), [".cairn-restore-incomplete"], "temporary files of the failed and the cancelled files are removed; the marker says the restore did not finish")
        }
    }

    /// Small files are written on the writer threads and skip owner and mode
    /// calls that would change nothing: every mode (umask-reduced ones, set-id
    /// bits, read-only) and, as root, a chosen owner still come out exactly.
    func testBatchedFilesGetTheirModesAndOwner() async throws {
        let dir = NSTemporaryDirectory() + "cairn-conc-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // (A file of mode 000 can be backed up only by root.)
        let modes: [UInt32] = [0o644, 0o600, 0o755, 0o666, 0o777, 0o400, 0o4755, 0o2750, 0o1777] + (geteuid() == 0 ? [0o000] : [])
        try FileManager.default.createDirectory(atPath: dir + "/src", withIntermediateDirectories: true)
        for (i, mode) in modes.enumerated() {
            let path = "\(dir)/src/m\(i)"
            try Data(pseudoRandomBytes(100 + i * 900, seed: UInt64(i + 7))).write(to: URL(fileURLWithPath: path))
            XCTAssertEqual(chmod(path, mode_t(mode)), 0)
        }
        let t = try await TestRepository.make(profiles: small)
        var options = BackupOptions(name: "modes")
        options.fullPaths = false
        options.profile = "dump"
        let r = try await Archiver(repo: t.repo, options: options).backup(paths: [dir + "/src"])
        let record = try t.repo.resolveSnapshot(r.snapshotID)
        let root = geteuid() == 0
        for threads in [1, 8] {
            for owner in root ? [nil, (uid: UInt32(4321), gid: UInt32(8765))] : [nil] {
                let out = dir + "/out-\(threads)-\(owner?.uid ?? 0)"
                var restorer = Restorer(repo: try await t.reopen(), snapshot: record)
                restorer.writerThreads = threads
                restorer.owner = owner
                let result = try await restorer.restore(to: out)
                XCTAssertEqual(result.files, UInt64(modes.count))
                XCTAssertEqual(result.warnings, [])
                for (i, mode) in modes.enumerated() {
                    var st = stat()
                    XCTAssertEqual(lstat("\(out)/src/m\(i)", &st), 0)
                    XCTAssertEqual(UInt32(st.st_mode) & 0o7777, mode, "m\(i) with \(threads) threads, owner \(String(describing: owner))")
                    if let owner {
                        XCTAssertEqual(st.st_uid, owner.uid)
                        XCTAssertEqual(st.st_gid, owner.gid)
                    } else {
                        XCTAssertEqual(st.st_uid, geteuid())
                    }
                    if root || mode & 0o400 != 0 {
                        XCTAssertEqual([UInt8](FileManager.default.contents(atPath: "\(out)/src/m\(i)") ?? Data([1])),
                                       pseudoRandomBytes(100 + i * 900, seed: UInt64(i + 7)))
                    }
                }
            }
        }
    }

    /// Temporary restore files anywhere under `dir`.
    func leftovers(_ dir: String) throws -> [String] {
        (FileManager.default.enumerator(atPath: dir)?.allObjects as? [String] ?? []).filter { ($0 as NSString).lastPathComponent.hasPrefix(".cairn-") }
    }
}

/// `writeAll` of a window: grouped into a few `writev` calls, every byte in order.
final class WindowWriteTests: XCTestCase {
    func testWindowOfMixedChunksIsWrittenInOrder() throws {
        let path = NSTemporaryDirectory() + "cairn-writev-\(UUID().uuidString)"
        defer { unlink(path) }
        let sizes = [0, 1, 70_000, 10, writevBytes, 3, 200_000, 0, writevBytes - 1, 1, 5]
        let chunks = sizes.enumerated().map { pseudoRandomBytes($1, seed: UInt64($0 + 1)) }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        XCTAssertGreaterThanOrEqual(fd, 0)
        try writeAll(fd, chunks[...], path: path)
        try writeAll(fd, chunks[2..<4], path: path)
        try writeAll(fd, [], path: path)
        close(fd)
        XCTAssertEqual([UInt8](FileManager.default.contents(atPath: path) ?? Data()), chunks.flatMap { $0 } + chunks[2..<4].flatMap { $0 })
    }
}

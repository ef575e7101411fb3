@testable import CairnEngine
@testable import CairnRepository
import CairnFormat
import CairnStorage
import CairnTestSupport
import XCTest

/// Delta compression: changed chunks stored as zstd deltas against similar stored chunks.
final class DeltaTests: XCTestCase {
    func dump(day: Int, rows: Int = 30_000) -> [UInt8] { dumpLikeStream(day: day, rows: rows) }

    func testDeltaStoresChangedChunksSmallerAndRestoresExactly() async throws {
        let off = try await TestRepository.make(), on = try await TestRepository.make()
        var storedOff: UInt64 = 0, storedOn: UInt64 = 0
        var last = ""
        for day in 0..<3 {
            let data = dump(day: day)
            var o = BackupOptions(name: "pg"); o.delta = false
            let a = try await withPipe(data) { try await Archiver(repo: off.repo, options: o).backup(streamFD: $0) }
            let b = try await backupStream(on.repo, data, name: "pg")  // dump profile: delta on by default
            if day > 0 { storedOff += a.storedBytes; storedOn += b.storedBytes }
            let back = try await restoreStream(on.repo, b.snapshotID)
            XCTAssertTrue(back == data, "day \(day) restores byte for byte")
            last = b.snapshotID
        }
        XCTAssertLessThan(storedOn * 3, storedOff, "deltas should store days 2-3 at least 3x smaller (on \(storedOn), off \(storedOff))")
        // Some entries in the store name a base, and every base is a whole blob.
        let view = try await StoreIndexSnapshot.load(on.repo)
        let deltas = view.blobs.values.filter { $0.base != nil }
        XCTAssertFalse(deltas.isEmpty)
        for d in deltas { XCTAssertNil(view.dataLocation(d.base!)?.base, "chains are one level deep") }
        // A fresh machine (no cache, no features) restores it too, and a read-data scrub is clean.
        let fresh = try await on.reopen()
        let back = try await restoreStream(fresh, last)
        XCTAssertTrue(back == dump(day: 2))
        var so = ScrubOptions(); so.readData = true
        let report = try await Checker(repo: fresh, options: so).run()
        XCTAssertTrue(report.isClean, "\(report.blobProblems)")
    }

    func testADamagedBaseBreaksItsDeltasLoudly() async throws {
        let mem = MemoryStore()
        let t = try await TestRepository.make(store: mem)
        _ = try await backupStream(t.repo, dump(day: 0), name: "pg")
        let day1 = try await backupStream(t.repo, dump(day: 1), name: "pg")
        let view = try await StoreIndexSnapshot.load(t.repo)
        let base = try XCTUnwrap(view.blobs.values.first { $0.base != nil }?.base)
        let baseLoc = try XCTUnwrap(view.dataLocation(base))
        mem.tamper(ObjectKey(.data, baseLoc.pack.hex)) { var b = $0; b[Int(baseLoc.offset) + 20] ^= 1; return b }
        var so = ScrubOptions(); so.readData = true
        let report = try await Checker(repo: try await t.reopen(), options: so).run()
        XCTAssertTrue(report.affectedSnapshots.contains(day1.snapshotID), "the delta's snapshot is reported too")
        XCTAssertTrue(report.blobProblems.contains { $0.problem.contains("delta base") })
        do {
            _ = try await restoreStream(try await t.reopen(), day1.snapshotID)
            XCTFail("restore through a damaged base must fail")
        } catch {
            XCTAssertTrue(describe(error).contains(day1.snapshotID.prefix(8)), describe(error))
        }
    }
}

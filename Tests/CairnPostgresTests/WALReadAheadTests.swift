import CairnRepository
import CairnTestSupport
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import CairnPostgres

/// The background fetcher's window (`WALReadAhead.Planner`), which `wal-fetch` reads to decide
/// whether to wait for a segment. At the end of the archive the fetcher lingers with the lock held
/// until PostgreSQL has taken what is spooled; its window must still shrink as the segments in
/// flight arrive. Once PostgreSQL has read past its recovery target it reads the last replayed
/// segment again (PostgreSQL's log: "restored log file" twice for it): that segment, delivered and
/// taken, must be before the window, fetched from the repository at once. A window frozen when the
/// end was found, while a slower job still had that segment in flight, held the recovery for the
/// whole spool wait (the 60 s "did not deliver" of WALSpoolTests' point-in-time recovery).
final class WALReadAheadTests: XCTestCase {
    static let passphrase = Array("read ahead".utf8)
    static let segmentSize = UInt64(1 << 20)

    private func name(_ i: Int) -> String { WALFileName.segment(timeline: 1, number: UInt64(0x10 + i), segmentSize: Self.segmentSize) }

    func testAtTheEndOfTheArchiveADeliveredSegmentReadAgainIsNotWaitedFor() async throws {
        let (dir, _, _, _, repo) = try await RequestCountingStore.repository(passphrase: Self.passphrase, name: "read-ahead")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let archive = WALArchive(repo: repo, name: "pg-wal")
        for i in 0..<3 {
            let path = dir + "/" + name(i)
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(RandomBytes.make(Int(Self.segmentSize), seed: UInt64(i)))))
            guard case .stored = try await archive.push(path: path, fileName: name(i)) else { return XCTFail("segment \(i) not stored") }
        }
        let identity = WALSpoolClient.identity(repositoryURL: dir, walName: "pg-wal")
        let spool = try WALSpool(path: dir + "/spool")
        spool.adopt(identity: identity)
        let readAhead = WALReadAhead(archive: archive, spool: spool, identity: identity, capacity: 16, jobs: 2, idleSeconds: 60)
        let planner = WALReadAhead.Planner(owner: readAhead, timeline: 1, next: 0x10, segmentSize: Self.segmentSize)

        // Two jobs: one takes segment 0 and is slow; the other fetches 1 and 2, then finds the end (3).
        let first = await planner.next()?.0, second = await planner.next()?.0
        XCTAssertEqual([first, second], [name(0), name(1)])
        await planner.finished(name(1), ok: true)
        let third = await planner.next()?.0
        XCTAssertEqual(third, name(2))
        await planner.finished(name(2), ok: true)
        let afterEnd = await planner.next()
        XCTAssertNil(afterEnd)
        XCTAssertEqual(spool.endOfArchive(), name(3))
        XCTAssertEqual(spool.window(), WALSpool.Window(first: name(0), last: name(2)), "segment 0 is still to come")

        // Segment 0 arrives: nothing is still to come, every segment is before the window.
        await planner.finished(name(0), ok: true)
        let window = try XCTUnwrap(spool.window())
        for i in 0..<3 {
            XCTAssertFalse(window.contains(name(i)), "\(window)")
            XCTAssertTrue(window.isAfter(name(i)), "\(window)")
        }

        // PostgreSQL reads segment 0 again beside the lingering fetcher (the lock held): the repository, at once.
        let lock = try XCTUnwrap(spool.tryLock())
        defer { close(lock) }
        var warnings: [String] = []
        let fetcher = StandInFetcher()
        let client = WALSpoolClient(spool: spool, identity: identity, waitSeconds: 5, warn: { warnings.append($0) })
        let started = ContinuousClock.now
        XCTAssertFalse(client.serve(name(0), to: dir + "/RECOVERYXLOG", fetcher: fetcher))
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(2))
        XCTAssertEqual(warnings, [])
        XCTAssertEqual(fetcher.starts, [], "the lingering fetcher is neither stopped nor joined by another")
    }
}

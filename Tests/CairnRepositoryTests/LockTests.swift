@testable import CairnRepository
import CairnFormat
import CairnStorage
import CairnTestSupport
import Foundation
import Synchronization
import XCTest

final class LockTests: XCTestCase {
    /// Fast timings for tests; refresh effectively never unless a test asks.
    static func timing(refresh: Double = 3600, validFor: Double = 3000) -> LockTiming {
        var t = LockTiming(); t.checkDelay = 0.01; t.retryInterval = 0.05; t.refreshInterval = refresh
        t.refreshOverlap = 0.02; t.validFor = validFor
        return t
    }

    /// Writes a lock as another process would.
    func plant(_ repo: Repository, exclusive: Bool, host: String, pid: UInt32, refreshedSecondsAgo: Double = 0, operation: String = "prune") async throws -> String {
        let now = Clock.nowNanos()
        let r = LockRecord(exclusive: exclusive, host: host, pid: pid, startNanos: now - Int64((refreshedSecondsAgo + 60) * 1e9),
                           refreshNanos: now - Int64(refreshedSecondsAgo * 1e9), user: "someone", operation: operation)
        return try await LockManager(repo: repo).write(r).name
    }

    func testSharedLocksCoexistAndExclusiveConflicts() async throws {
        let t = try await TestRepository.make()
        let m = LockManager(repo: t.repo, timing: Self.timing())
        let a = try await m.acquire(exclusive: false, operation: "backup")
        let b = try await m.acquire(exclusive: false, operation: "backup")
        var locks = try await m.list()
        XCTAssertEqual(locks.count, 2)
        do {
            _ = try await m.acquire(exclusive: true, operation: "prune")
            XCTFail("exclusive lock taken while shared locks are held")
        } catch let e as RepositoryLockedError {
            XCTAssertTrue(e.description.contains("backup (shared) of PID \(getpid()) on host \(Host.name)"), e.description)
            XCTAssertTrue(e.description.contains("cairn unlock"), e.description)
        }
        locks = try await m.list()
        XCTAssertEqual(locks.count, 2, "the failed attempt left its lock behind")
        await a.release(); await b.release()
        let v1 = try await m.list().count
        XCTAssertEqual(v1, 0)
        let x = try await m.acquire(exclusive: true, operation: "prune")
        for exclusive in [false, true] {
            do { _ = try await m.acquire(exclusive: exclusive, operation: "other"); XCTFail() } catch is RepositoryLockedError {}
        }
        await x.release()
        let v2 = try await m.list().count
        XCTAssertEqual(v2, 0)
    }

    func testLockOfADeadProcessOnThisHostIsRemoved() async throws {
        let t = try await TestRepository.make()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try p.run(); p.waitUntilExit()
        let dead = UInt32(p.processIdentifier)
        XCTAssertFalse(LockManager.processExists(dead))
        XCTAssertTrue(LockManager.processExists(UInt32(getpid())))
        let name = try await plant(t.repo, exclusive: true, host: Host.name, pid: dead)
        // The same record on another host is live (its pid means nothing here).
        _ = try await plant(t.repo, exclusive: false, host: "elsewhere", pid: dead)
        let notices = Mutex<[String]>([])
        let m = LockManager(repo: t.repo, timing: Self.timing(), notice: { n in notices.withLock { $0.append(n) } })
        let l = try await m.acquire(exclusive: false, operation: "backup")
        XCTAssertEqual(notices.withLock { $0 }.count, 1)
        XCTAssertTrue(notices.withLock { $0[0] }.contains("removed stale lock \(name.prefix(12))"), notices.withLock { $0[0] })
        XCTAssertTrue(notices.withLock { $0[0] }.contains("process \(dead) on this host"), notices.withLock { $0[0] })
        let names = try await m.list().map(\.name)
        XCTAssertFalse(names.contains(name))
        XCTAssertEqual(names.count, 2)
        await l.release()
    }

    func testLockNotRefreshedForTooLongIsStale() async throws {
        let t = try await TestRepository.make()
        let old = try await plant(t.repo, exclusive: true, host: "elsewhere", pid: 1, refreshedSecondsAgo: 31 * 60)
        let m = LockManager(repo: t.repo, timing: Self.timing())
        let v3 = try await m.list()[0]
        XCTAssertNotNil(m.staleReason(v3))
        let l = try await m.acquire(exclusive: true, operation: "prune")
        let v4 = try await m.list().map(\.name).contains(old)
        XCTAssertFalse(v4)
        await l.release()

        _ = try await plant(t.repo, exclusive: true, host: "elsewhere", pid: 1, refreshedSecondsAgo: 10 * 60)
        do { _ = try await m.acquire(exclusive: false, operation: "backup"); XCTFail("a lock refreshed 10 min ago is live") } catch let e as RepositoryLockedError {
            XCTAssertTrue(e.description.contains("on host elsewhere"), e.description)
            XCTAssertTrue(e.description.contains("refreshed 10m00s ago"), e.description)
        }
        let v5 = try await m.removeStale().count
        XCTAssertEqual(v5, 0)
        let v6 = try await m.removeAll()
        XCTAssertEqual(v6, 1)
    }

    func testWaitLock() async throws {
        let t = try await TestRepository.make()
        let m = LockManager(repo: t.repo, timing: Self.timing())
        let held = try await m.acquire(exclusive: true, operation: "prune")
        var start = Clock.monotonic()
        do { _ = try await m.acquire(exclusive: false, operation: "backup", wait: 0.4); XCTFail() } catch is RepositoryLockedError {}
        XCTAssertGreaterThanOrEqual(Clock.monotonic() - start, 0.4)
        start = Clock.monotonic()
        let releaser = Task { try await Task.sleep(nanoseconds: 600_000_000); await held.release() }
        let got = try await m.acquire(exclusive: false, operation: "backup", wait: 10)
        let waited = Clock.monotonic() - start
        XCTAssertGreaterThanOrEqual(waited, 0.55)
        XCTAssertLessThan(waited, 5)
        try await releaser.value
        await got.release()
    }

    func testRefreshRewritesTheLockAndEnsureValidNoticesLoss() async throws {
        let t = try await TestRepository.make()
        let m = LockManager(repo: t.repo, timing: Self.timing(refresh: 0.15))
        let l = try await m.acquire(exclusive: true, operation: "prune")
        let first = l.name
        let firstRecord = try await m.list()[0].record!
        try await Task.sleep(nanoseconds: 700_000_000)
        XCTAssertNotEqual(l.name, first)
        let now = try await m.list()
        XCTAssertFalse(now.map(\.name).contains(first), "the old lock object is deleted after a refresh")
        XCTAssertTrue(now.map(\.name).contains(l.name))
        let rec = try XCTUnwrap(now.first { $0.name == l.name }?.record)
        XCTAssertEqual(rec.startNanos, firstRecord.startNanos)
        XCTAssertGreaterThan(rec.refreshNanos, firstRecord.refreshNanos)
        try await l.ensureValid()
        // 'cairn unlock --remove-all' elsewhere: the holder must notice before it commits.
        _ = try await m.removeAll()
        do { try await l.ensureValid(); XCTFail() } catch let e as LockLostError { XCTAssertTrue(e.description.contains("removed"), e.description) }
        await l.release()

        // A holder that could not refresh in time stops too.
        let m2 = LockManager(repo: t.repo, timing: Self.timing(refresh: 3600, validFor: 0.5))
        let l2 = try await m2.acquire(exclusive: false, operation: "backup")
        try await l2.ensureValid()
        try await Task.sleep(nanoseconds: 700_000_000)
        do { try await l2.ensureValid(); XCTFail() } catch let e as LockLostError { XCTAssertTrue(e.description.contains("not refreshed"), e.description) }
        await l2.release()
        let v7 = try await m2.list().count
        XCTAssertEqual(v7, 0)
    }

    /// Many rounds of two processes (different pids) racing for conflicting
    /// locks, over a store whose every call takes a random few milliseconds:
    /// never do both hold them at once.
    func testRacingLockersNeverBothHold() async throws {
        let t = try await TestRepository.make(store: JitterStore(MemoryStore()))
        final class Tally: Sendable { let holders = Mutex(0); let overlap = Mutex(false) }
        let tally = Tally()
        let repo = t.repo
        for round in 0..<15 {
            let exclusiveB = round % 3 != 0   // exclusive vs exclusive, and exclusive vs shared
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (pid, exclusive) in [(UInt32(4_000_001), true), (UInt32(4_000_002), exclusiveB)] {
                    group.addTask {
                        var timing = Self.timing(); timing.checkDelay = 0.02
                        // Distinct hosts: on one host, a lock of a pid that does not exist here is stale by design.
                        let m = LockManager(repo: repo, timing: timing, host: "racer-\(pid)", pid: pid)
                        let l = try await m.acquire(exclusive: exclusive, operation: "race", wait: 20)
                        if tally.holders.withLock({ $0 += 1; return $0 }) > 1 { tally.overlap.withLock { $0 = true } }
                        try await Task.sleep(nanoseconds: 20_000_000)
                        tally.holders.withLock { $0 -= 1 }
                        await l.release()
                    }
                }
                try await group.waitForAll()
            }
        }
        XCTAssertFalse(tally.overlap.withLock { $0 }, "two conflicting locks were held at once")
        let v8 = try await LockManager(repo: t.repo).list().count
        XCTAssertEqual(v8, 0)
    }

    func testUnreadableLockConflictsUntilRemovedByForce() async throws {
        let t = try await TestRepository.make()
        try await t.store.put(ObjectKey(.locks, String(repeating: "ab", count: 32)), Array("garbage".utf8))
        let m = LockManager(repo: t.repo, timing: Self.timing())
        let info = try await m.list()
        XCTAssertNil(info[0].record)
        XCTAssertNil(m.staleReason(info[0]))
        do { _ = try await m.acquire(exclusive: false, operation: "backup"); XCTFail() } catch let e as RepositoryLockedError {
            XCTAssertTrue(e.description.contains("unreadable lock"), e.description)
        }
        let v9 = try await m.removeStale().count
        XCTAssertEqual(v9, 0)
        let v10 = try await m.removeAll()
        XCTAssertEqual(v10, 1)
        await (try await m.acquire(exclusive: true, operation: "prune")).release()
    }
}


/// A store whose every operation first waits 0–4 ms, so concurrent tasks interleave as processes do.
final class JitterStore: ObjectStore {
    let base: any ObjectStore
    init(_ base: any ObjectStore) { self.base = base }
    var location: String { base.location }
    private func jitter() async { try? await Task.sleep(nanoseconds: UInt64.random(in: 0...4_000_000)) }
    func put(_ key: ObjectKey, _ bytes: [UInt8]) async throws { await jitter(); try await base.put(key, bytes) }
    func get(_ key: ObjectKey) async throws -> [UInt8] { await jitter(); return try await base.get(key) }
    func get(_ key: ObjectKey, offset: UInt64, length: Int) async throws -> [UInt8] { await jitter(); return try await base.get(key, offset: offset, length: length) }
    func size(_ key: ObjectKey) async throws -> UInt64? { await jitter(); return try await base.size(key) }
    func list(_ namespace: ObjectNamespace) async throws -> [ObjectKey] { await jitter(); return try await base.list(namespace) }
    func delete(_ key: ObjectKey) async throws { await jitter(); try await base.delete(key) }
}

import CairnEngine
import CairnRepository
import CairnOps
import CairnPlan
import CairnPostgres
import CairnStorage
import Foundation
import XCTest

/// `cairn run` backs up PostgreSQL sources as it does the others: with the
/// plan's tags and waiting for a conflicting repository lock (issue 19: both
/// PostgreSQL sources ran with neither, and `pg dump` took no tags).
final class PostgresSourceRunTests: XCTestCase {
    func testEveryRunnableSourceGetsItsTagsAndWaitsForTheLock() throws {
        let plan = try PlanDecoder.decode("""
        [repository.r]
        url = "/tmp/unused"
        password-file = "/tmp/unused-pass"

        [source.db]
        kind = "pg-dump"
        dbname = "host=/tmp dbname=app"
        repository = "r"
        tags = ["db", "nightly"]

        [source.base]
        kind = "pg-basebackup"
        dbname = "host=/tmp"
        repository = "r"
        tags = ["base"]

        [source.cache]
        kind = "redis"
        url = "redis://127.0.0.1:6379"
        repository = "r"
        tags = ["cache"]

        [source.files]
        kind = "tree"
        paths = ["/etc"]
        repository = "r"
        tags = ["files"]

        [source.cmd]
        kind = "command"
        command = ["echo", "hi"]
        repository = "r"
        tags = ["cmd"]
        """, file: "cairn.toml")
        XCTAssertEqual(plan.sources.count, 5)
        for s in plan.sources {
            guard case .success(let args) = BackupInvocation.arguments(for: s, waitLock: "7m") else {
                XCTFail("\(s.name) has nothing to run"); continue
            }
            let options = args.split(separator: "--", maxSplits: 1, omittingEmptySubsequences: false).first.map(Array.init) ?? args
            XCTAssertTrue(zip(options, options.dropFirst()).contains { $0 == ("--wait-lock", "7m") }, "\(s.name): \(args)")
            for tag in s.tags {
                XCTAssertTrue(zip(options, options.dropFirst()).contains { $0 == ("--tag", tag) }, "\(s.name) records tag \(tag): \(args)")
            }
        }
    }

    func testPgCommandsRefuseAnEmptyTag() throws {
        let h = try OpsHarness()
        for verb in ["dump", "basebackup"] {
            let r = try h.run(["pg", verb, "--name", "x", "--tag", "", "--repo", h.dir + "/none", "--password-file", h.passFile])
            XCTAssertEqual(r.status, 2, r.summary)
            XCTAssertTrue(r.err.contains("--tag is empty"), r.summary)
        }
    }

    /// A real cluster and the real binary: the dump snapshot carries the plan's tags, and a run that meets
    /// an exclusive lock (a prune elsewhere) waits for it instead of failing.
    func testRunOfAPgDumpSourceRecordsTagsAndWaitsForAnExclusiveLock() async throws {
        _ = try OpsHarness.require("/usr/lib/postgresql/15/bin/initdb", "PostgreSQL 15 (initdb)")
        let h = try OpsHarness()
        let repoPath = try h.initRepository("repo")
        let pg = try TemporaryPostgres(scratch: h.dir, bin: nil, user: "postgres")
        defer { pg.stop() }
        let admin = try PGConnection(pg.conninfo("postgres"))
        _ = try admin.query("CREATE DATABASE app")
        let planPath = try h.write("cairn.toml", """
        [repository.onsite]
        url = "\(repoPath)"
        password-file = "\(h.passFile)"

        [source.database]
        kind = "pg-dump"
        dbname = "\(pg.conninfo("app"))"
        repository = "onsite"
        tags = ["db", "nightly"]
        """)
        let env = ["CAIRN_PLAN": planPath, "CAIRN_PG_BIN": pg.bin]

        // Another process holds the exclusive lock for 3 s.
        let repo = try await Repository.open(store: LocalStore(root: repoPath), passphrase: Array("ops test passphrase".utf8),
                                             cacheBase: h.dir + "/test-cache")
        let lock = try await LockManager(repo: repo).acquire(exclusive: true, operation: "prune (test)")
        let started = Date()
        let releaser = Task {
            try await Task.sleep(nanoseconds: 3_000_000_000)
            await lock.release()
        }
        let harness = UncheckedBox(h)
        let run = await Self.offThePool { try harness.value.run(["run", "--all", "--backups-only", "--json"], env: env) }
        try await releaser.value
        let result = try run.get()
        XCTAssertEqual(result.status, 0, result.summary)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 3, "the run waited for the lock")

        let listed = try h.run(["snapshots", "--json", "--repo", repoPath, "--password-file", h.passFile]).check("snapshots")
        let snaps = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(listed.out.utf8)) as? [[String: Any]], listed.summary)
        XCTAssertEqual(snaps.count, 1, listed.summary)
        XCTAssertEqual(snaps.first?["tags"] as? [String], ["db", "nightly"], listed.summary)
    }

    /// Runs blocking work on a thread of its own, so the lock's release task keeps a cooperative thread.
    private static func offThePool<R: Sendable>(_ body: @escaping @Sendable () throws -> R) async -> Result<R, Error> {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: Result { try body() }) }.start()
        }
    }
}

/// Hands the (single-threaded) harness to the one thread that runs cairn.
private final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

import CairnPostgres
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `WALSpoolClient` and `WALFetcherLauncher` without the cairn binary: the restore_command's side of
/// the spool serves a segment only with the SHA-256 it was spooled under, answers "not served" (so
/// the repository decides) whenever the spool cannot, and starts, waits for and restarts the fetcher
/// as `wal-fetch` does. The fetchers here are stand-ins that hold the spool's lock: one in-process,
/// one a shell script started by the real launcher (its secrets on standard input only).
final class WALSpoolClientTests: XCTestCase {
    private var dir = ""
    private let identity = WALSpoolClient.identity(repositoryURL: "/srv/repo", walName: "pg-wal")
    private let segmentSize = UInt64(1 << 20)

    override func setUpWithError() throws {
        var template = Array((NSTemporaryDirectory() + "/cairn-spoolclient-XXXXXX").utf8CString)
        guard let p = mkdtemp(&template) else { throw Failure("mkdtemp failed") }
        dir = String(cString: p)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    private func name(_ number: UInt64) -> String { WALFileName.segment(timeline: 1, number: number, segmentSize: segmentSize) }

    private func bytes(_ seed: UInt64) -> [UInt8] {
        var rng = SeededBytes(seed: seed)
        return rng.bytes(Int(segmentSize))
    }

    /// A spool of `identity` (adopted as the fetcher does).
    private func openSpool(identity: String? = nil) throws -> WALSpool {
        let spool = try WALSpool(path: dir + "/spool")
        spool.adopt(identity: identity ?? self.identity)
        return spool
    }

    /// Spools `content` as segment `name`, under the SHA-256 of `recordedAs` (default: `content` itself).
    private func put(_ spool: WALSpool, _ name: String, _ content: [UInt8], recordedAs: [UInt8]? = nil) throws {
        let tmp = spool.path + "/.\(name).tmp.test"
        XCTAssertTrue(FileManager.default.createFile(atPath: tmp, contents: Data(recordedAs ?? content)))
        let sha = try XCTUnwrap(WALSpool.sha256(of: tmp))
        XCTAssertTrue(FileManager.default.createFile(atPath: tmp, contents: Data(content)))
        XCTAssertEqual(rename(tmp, spool.path + "/" + name + "." + sha), 0)
    }

    private func contents(_ path: String) -> [UInt8]? { FileManager.default.contents(atPath: path).map { Array($0) } }

    // MARK: beside a running fetcher (wal-fetch's quick path)

    func testTheQuickPathServesOnlyBesideARunningFetcherOfThisArchive() throws {
        let spool = try openSpool()
        let dest = dir + "/RECOVERYXLOG"
        let content = bytes(1)
        try put(spool, name(0x41), content)
        try put(spool, name(0x40), bytes(2))
        let client = WALSpoolClient(spool: spool, identity: identity)

        // No fetcher: starting one is the full command's; the segment stays spooled.
        XCTAssertEqual(client.serveBesideRunningFetcher(name(0x41), to: dest), .notServed)
        XCTAssertNil(contents(dest))
        XCTAssertEqual(spool.entries().map(\.name), [name(0x40), name(0x41)])

        let fetcher = try XCTUnwrap(spool.tryLock())
        defer { close(fetcher) }
        // A fetcher of another archive: not ours to serve.
        XCTAssertEqual(WALSpoolClient(spool: spool, identity: "repository /other wal-name pg-wal").serveBesideRunningFetcher(name(0x41), to: dest), .notServed)
        // The fetcher found it missing: only the repository may say so.
        spool.setEndOfArchive(name(0x41))
        XCTAssertEqual(client.serveBesideRunningFetcher(name(0x41), to: dest), .notServed)
        spool.setEndOfArchive(nil)
        XCTAssertEqual(client.serveBesideRunningFetcher("00000001.history", to: dest), .notServed)
        XCTAssertNil(contents(dest))

        XCTAssertEqual(client.serveBesideRunningFetcher(name(0x41), to: dest), .served)
        XCTAssertEqual(contents(dest), content)
        XCTAssertEqual(spool.entries(), [], "served, and the older segment PostgreSQL no longer needs removed")
        XCTAssertEqual(client.serveBesideRunningFetcher(name(0x42), to: dest), .notServed)
    }

    func testTheQuickPathRefusesADamagedCopyAndRemovesIt() throws {
        let spool = try openSpool()
        let dest = dir + "/RECOVERYXLOG"
        var damaged = bytes(3)
        try put(spool, name(0x50), damaged, recordedAs: bytes(3))
        damaged[4096] ^= 1
        try put(spool, name(0x51), damaged, recordedAs: bytes(3))
        let fetcher = try XCTUnwrap(spool.tryLock())
        defer { close(fetcher) }
        guard case .refused(let why) = WALSpoolClient(spool: spool, identity: identity).serveBesideRunningFetcher(name(0x51), to: dest) else {
            return XCTFail("a damaged spooled copy was not refused")
        }
        XCTAssertTrue(why.contains("SHA-256"), why)
        XCTAssertNil(contents(dest), "nothing is written for a damaged copy")
        XCTAssertEqual(spool.entries(), [])
    }

    // MARK: the full protocol

    func testADamagedCopyOrTheFetchersEndOfArchiveGoesToTheRepository() throws {
        let spool = try openSpool()
        let dest = dir + "/RECOVERYXLOG"
        var warnings: [String] = []
        let client = WALSpoolClient(spool: spool, identity: identity, waitSeconds: 5, warn: { warnings.append($0) })
        let fetcher = StandInFetcher()
        var damaged = bytes(4)
        damaged[0] ^= 0xff
        try put(spool, name(0x60), damaged, recordedAs: bytes(4))
        XCTAssertFalse(client.serve(name(0x60), to: dest, fetcher: fetcher))
        XCTAssertNil(contents(dest))
        XCTAssertEqual(warnings.count, 1)
        XCTAssertTrue(warnings.first?.hasPrefix("wal-fetch \(name(0x60)): the spooled copy of") ?? false, "\(warnings)")

        spool.setEndOfArchive(name(0x61))
        XCTAssertFalse(client.serve(name(0x61), to: dest, fetcher: fetcher))
        XCTAssertEqual(fetcher.starts, [], "no fetcher for a segment the archive lacks, and none for a damaged copy")
    }

    func testAFetcherIsStartedWhenNoneRunsAndWhatItSpoolsIsServed() throws {
        let spool = try openSpool()
        let dest = dir + "/RECOVERYXLOG"
        let content = bytes(5)
        let fetcher = StandInFetcher { spool, first in try? self.put(spool, first, content) }
        fetcher.keepsRunning = true
        defer { fetcher.stop() }
        // Prefetch 2 with nothing ahead, but the fetcher still runs: no second start.
        let client = WALSpoolClient(spool: spool, identity: identity, prefetch: 2, waitSeconds: 5)
        XCTAssertTrue(client.serve(name(0x70), to: dest, fetcher: fetcher))
        XCTAssertEqual(contents(dest), content)
        XCTAssertEqual(fetcher.starts, [name(0x70)])
    }

    func testAFetcherThatStopsWithoutTheSegmentSendsItToTheRepositoryAfterOneStart() throws {
        let spool = try openSpool()
        let fetcher = StandInFetcher()
        let client = WALSpoolClient(spool: spool, identity: identity, waitSeconds: 5)
        XCTAssertFalse(client.serve(name(0x80), to: dir + "/RECOVERYXLOG", fetcher: fetcher))
        XCTAssertEqual(fetcher.starts, [name(0x80)])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/RECOVERYXLOG"))
    }

    func testAFetcherThatDoesNotDeliverInTimeIsGivenUp() throws {
        let spool = try openSpool()
        let lock = try XCTUnwrap(spool.tryLock())
        defer { close(lock) }
        spool.setWindow(WALSpool.Window(first: name(0x90), last: name(0x9f)))
        var warnings: [String] = []
        let client = WALSpoolClient(spool: spool, identity: identity, waitSeconds: 1, warn: { warnings.append($0) })
        let fetcher = StandInFetcher()
        let started = ContinuousClock.now
        XCTAssertFalse(client.serve(name(0x91), to: dir + "/RECOVERYXLOG", fetcher: fetcher))
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - started, .seconds(1))
        XCTAssertEqual(fetcher.starts, [], "one runs already")
        XCTAssertTrue(warnings.first?.contains("did not deliver it within 1 s") ?? false, "\(warnings)")

        // Before its window: served already, or older than the read-ahead: the repository, at once.
        let again = ContinuousClock.now
        XCTAssertFalse(client.serve(name(0x8f), to: dir + "/RECOVERYXLOG", fetcher: fetcher))
        XCTAssertLessThan(ContinuousClock.now - again, .seconds(1))
        // A fetcher of another archive holds the spool: not waited for.
        XCTAssertFalse(WALSpoolClient(spool: spool, identity: "repository /other wal-name x", waitSeconds: 30).serve(name(0x92), to: dir + "/RECOVERYXLOG", fetcher: fetcher))
    }

    func testAServedSegmentRestartsAStoppedFetcherFromTheNextSegmentWhenTheSpoolRunsLow() throws {
        let spool = try openSpool()
        let dest = dir + "/RECOVERYXLOG"
        try put(spool, name(0xa0), bytes(6))
        try put(spool, name(0xa1), bytes(7))
        let fetcher = StandInFetcher()
        // One segment ahead of a capacity of 4: less than half full.
        XCTAssertTrue(WALSpoolClient(spool: spool, identity: identity, prefetch: 4).serve(name(0xa0), to: dest, fetcher: fetcher))
        XCTAssertEqual(contents(dest), bytes(6))
        XCTAssertEqual(fetcher.starts, [name(0xa1)], "restarted from the segment after the one served")
        // One ahead of a capacity of 2: half full, no restart.
        try put(spool, name(0xa2), bytes(8))
        XCTAssertTrue(WALSpoolClient(spool: spool, identity: identity, prefetch: 2).serve(name(0xa1), to: dest, fetcher: fetcher))
        XCTAssertEqual(contents(dest), bytes(7))
        XCTAssertEqual(fetcher.starts, [name(0xa1)])
    }

    // MARK: the launcher

    func testTheLauncherHandsTheLockOverAndItsSecretsOnlyThroughStandardInput() throws {
        let spool = try openSpool()
        let source = dir + "/archived"
        XCTAssertEqual(mkdir(source, 0o700), 0)
        let content = bytes(9)
        XCTAssertTrue(FileManager.default.createFile(atPath: source + "/" + name(0xb0), contents: Data(content)))
        // The stand-in fetcher: records its arguments, environment and standard input, spools the first
        // segment under its SHA-256 and holds the lock (fd 3) for a moment.
        let script = dir + "/fetcher.sh"
        try """
            #!/bin/sh
            out=\(dir)
            printf '%s\\n' "$@" > "$out/argv"
            env > "$out/env"
            ls /proc/$$/fd > "$out/fds"
            cat > "$out/stdin"
            for a; do first="$a"; done
            spool="$7"
            sha=$(sha256sum "\(source)/$first" | cut -c1-64)
            cp "\(source)/$first" "$spool/.$first.tmp.$$" && mv "$spool/.$first.tmp.$$" "$spool/$first.$sha"
            echo "stand-in fetcher: spooled $first"
            sleep 2
            """.write(toFile: script, atomically: true, encoding: .utf8)
        XCTAssertEqual(chmod(script, 0o755), 0)

        let secrets = ["AWS_SECRET_ACCESS_KEY": "aws-secret-value-1", "AWS_ACCESS_KEY_ID": "aws-key-id-2", "CAIRN_PASSWORD": "cairn-password-3"]
        for (k, v) in secrets { setenv(k, v, 1) }
        defer { for k in secrets.keys { unsetenv(k) } }
        let launcher = WALFetcherLauncher(executable: script, repositoryURL: "/srv/repo", walName: "pg-wal", capacity: 8, jobs: 2, idleSeconds: 30,
                                          repositoryArguments: ["--connections", "4"], passphrase: { Array("the-passphrase-4".utf8) })
        // A descriptor this process left open across exec (as PostgreSQL leaves its own to restore_command).
        let devNull = open("/dev/null", O_RDONLY)
        XCTAssertEqual(dup2(devNull, 200), 200)
        close(devNull)
        defer { close(200) }
        let dest = dir + "/RECOVERYXLOG"
        XCTAssertTrue(WALSpoolClient(spool: spool, identity: identity, waitSeconds: 10).serve(name(0xb0), to: dest, fetcher: launcher))
        XCTAssertEqual(contents(dest), content)
        XCTAssertTrue(spool.fetcherRunning(), "the child holds the lock it was handed")
        XCTAssertNotNil(spool.fetcherPID())
        let deadline = Date().addingTimeInterval(10)
        while spool.fetcherRunning(), Date() < deadline { usleep(20_000) }
        XCTAssertFalse(spool.fetcherRunning(), "the lock is released when the fetcher exits")

        let argv = try String(contentsOfFile: dir + "/argv", encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(argv, ["wal-fetch-ahead", "--repo", "/srv/repo", "--wal-name", "pg-wal", "--spool", spool.path,
                              "--capacity", "8", "--jobs", "2", "--idle", "30.0", "--connections", "4", name(0xb0)])
        let fds = try String(contentsOfFile: dir + "/fds", encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertTrue(fds.contains("3"), "the lock: \(fds)")
        XCTAssertFalse(fds.contains("200"), "nothing else of the process that started it: \(fds)")
        let env = try String(contentsOfFile: dir + "/env", encoding: .utf8)
        for secret in Array(secrets.values) + ["the-passphrase-4"] { XCTAssertFalse(env.contains(secret), "\(secret) in the fetcher's environment") }
        let fd = open(dir + "/stdin", O_RDONLY)
        defer { close(fd) }
        let message = try WALFetcherSecrets.read(fd: fd)
        XCTAssertEqual(message.passphrase, Array("the-passphrase-4".utf8))
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: message.variables.map { ($0.0, $0.1) }),
                       ["AWS_SECRET_ACCESS_KEY": "aws-secret-value-1", "AWS_ACCESS_KEY_ID": "aws-key-id-2"], "the S3 credentials, never Cairn's own password variables")
        let log = try String(contentsOfFile: spool.path + "/fetcher.log", encoding: .utf8)
        XCTAssertTrue(log.contains("stand-in fetcher: spooled \(name(0xb0))"), log)
    }

    func testTheSecretsMessageNeedsAPassphrase() throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let message = WALFetcherSecrets.encode(passphrase: [], variables: [("AWS_SESSION_TOKEN", "t")])
        _ = message.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
        close(fds[1])
        defer { close(fds[0]) }
        XCTAssertThrowsError(try WALFetcherSecrets.read(fd: fds[0]))
    }
}

/// A fetcher in this process: records where it was started, runs `deliver`, and, with `keepsRunning`,
/// keeps the spool's lock (a duplicate of the handed descriptor) until `stop()`.
final class StandInFetcher: WALFetcherStarting {
    var starts: [String] = []
    var keepsRunning = false
    private var held: [Int32] = []
    private let deliver: (WALSpool, String) -> Void

    init(deliver: @escaping (WALSpool, String) -> Void = { _, _ in }) { self.deliver = deliver }

    func start(spool: WALSpool, lockFD: Int32, from first: String) throws {
        starts.append(first)
        deliver(spool, first)
        if keepsRunning { held.append(dup(lockFD)) }
    }

    func stop() { held.forEach { close($0) }; held = [] }
}

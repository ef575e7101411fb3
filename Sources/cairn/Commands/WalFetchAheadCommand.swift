import ArgumentParser
import CairnEngine
import CairnOps
import CairnPostgres
import CairnRepository
import CairnSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The background read-ahead `wal-fetch` starts (not for people to run): fills the spool ahead of
/// PostgreSQL's replay with the repository opened once. Holds the spool's lock on fd 3 (handed over
/// by `wal-fetch`) and reads its secrets from standard input (`WALFetcherLauncher`, `WALFetcherSecrets`).
struct WalFetchAheadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal-fetch-ahead",
        abstract: "Fill wal-fetch's spool ahead of PostgreSQL's replay (started by wal-fetch).",
        shouldDisplay: false)

    @OptionGroup var options: RepositoryOptions

    @Option(help: "Name of the WAL archive's snapshots.")
    var walName: String

    @Option(help: "The spool directory.")
    var spool: String

    @Option(help: "Segments to keep in the spool.")
    var capacity: Int

    @Option(help: "Segments fetched at once.")
    var jobs: Int

    @Option(help: "Seconds with the spool full and nothing taken before giving up (the spool is then emptied).")
    var idle: Double = 60

    @Argument(help: "The first segment to fetch.")
    var first: String

    func validate() throws {
        guard WALFileName(first)?.kind == .segment else { throw ValidationError("\(first.debugDescription) is not a WAL segment name") }
        guard (1...1024).contains(capacity), (1...64).contains(jobs), idle > 0 else { throw ValidationError("bad --capacity, --jobs or --idle") }
    }

    func run() async throws {
        // The lock wal-fetch took for us (fd 3): without it another fetcher may be filling the spool.
        var held = stat(), lockFile = stat()
        guard fstat(3, &held) == 0, stat(spool + "/lock", &lockFile) == 0, held.st_ino == lockFile.st_ino, held.st_dev == lockFile.st_dev,
              (try? SystemCall.lockExclusive(3, wait: false)) == true else {
            throw CommandFailure(ExitStatus.usage, "wal-fetch-ahead: not started by wal-fetch (no spool lock on fd 3)")
        }
        let passphrase = try WALFetcherSecrets.receive(fd: 0)
        let spoolDir = try WALSpool(path: spool)
        let identity = try WALSpoolClient.identity(repositoryURL: options.repositoryURL(), walName: walName)
        guard spoolDir.holds(identity: identity) else {
            throw CommandFailure.failed("wal-fetch-ahead: the spool \(spool) holds another archive's segments")
        }
        let started = ContinuousClock.now
        Terminal.info("wal-fetch-ahead \(getpid()): reading ahead from \(first), \(capacity) segments in \(spool), \(jobs) at a time")
        let repo = try await Repository.open(store: try options.store(), passphrase: passphrase, cacheBase: options.cacheBase(),
                                             keyCache: try options.keyCacheSetting(), keyHint: options.keyHintSetting, warnings: TerminalWarnings())
        let readAhead = WALReadAhead(archive: WALArchive(repo: repo, name: walName), spool: spoolDir, identity: identity,
                                     capacity: capacity, jobs: jobs, idleSeconds: idle)
        let outcome = try await readAhead.run(from: first) { Terminal.warn("wal-fetch-ahead: \($0)") }
        Terminal.info("wal-fetch-ahead \(getpid()): fetched \(outcome.fetched) segments in \(String(format: "%.1f", (ContinuousClock.now - started).seconds)) s; stopped: \(outcome.reason)")
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

import ArgumentParser
import CairnEngine
import CairnRepository
import CairnOps
import CairnPostgres
import CairnStorage
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `restore_command = 'cairn wal-fetch --env-file /etc/cairn/pg.env %f "%p"'`.
struct WalFetchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal-fetch",
        abstract: "Restore one archived WAL file (restore_command).",
        discussion: """
            Exit 0: written to DESTINATION (atomically). Exit 1: the archive definitely does not hold the file. \
            Exit 128: the repository could not be read after retries, so PostgreSQL aborts recovery instead of \
            ending it early. Segments are served from a spool directory (default: .cairn-prefetch beside \
            DESTINATION, i.e. pg_wal/.cairn-prefetch; mode 0700) that one background fetcher keeps --prefetch \
            segments ahead of the replay, with the repository opened once; a spooled segment is served only if \
            it still has the SHA-256 its snapshot recorded. Anything the spool cannot answer (history files, a \
            segment the archive lacks, a damaged copy, a stopped fetcher) is fetched from the repository directly.
            """)

    @OptionGroup var pg: PgOptions
    @OptionGroup var options: RepositoryOptions

    @Option(help: "Segments the background fetcher keeps ready in the spool (0: no spool, every file from the repository).")
    var prefetch = 16

    @Option(help: "Segments the background fetcher fetches at once.")
    var fetchJobs = 2

    @Option(help: "Attempts before giving up on an unreadable repository.")
    var attempts = 3

    @Option(help: "Spool directory (default: $CAIRN_WAL_SPOOL or DESTINATION's directory/.cairn-prefetch).")
    var spool: String?

    @Option(help: "Seconds to wait for the background fetcher to deliver a segment before fetching it directly.")
    var spoolWait: Double = 60

    @Option(help: ArgumentHelp("Seconds the background fetcher waits with a full spool before it empties the spool and stops.", visibility: .hidden))
    var spoolIdle: Double = 60

    @Argument(help: "The file wanted (%f).")
    var fileName: String

    @Argument(help: "Where to write it (%p).")
    var destination: String

    /// The values `validate()` accepts (the quick path, `serveFromSpool`, checks the same).
    static let prefetchRange = 0...256
    static let fetchJobsRange = 1...16
    static let attemptsRange = 1...20
    static let spoolWaitLimit = 3600.0

    func validate() throws {
        guard WALFileName.isPlausible(fileName) else { throw ValidationError("\(fileName.debugDescription) is not a WAL file name") }
        guard Self.prefetchRange.contains(prefetch) else { throw ValidationError("--prefetch must be \(Self.prefetchRange)") }
        guard Self.fetchJobsRange.contains(fetchJobs) else { throw ValidationError("--fetch-jobs must be \(Self.fetchJobsRange)") }
        guard Self.attemptsRange.contains(attempts) else { throw ValidationError("--attempts must be \(Self.attemptsRange)") }
        guard Self.spoolWaitAccepted(spoolWait), Self.spoolIdleAccepted(spoolIdle) else { throw ValidationError("--spool-wait must be 1...3600 seconds") }
    }

    /// A `--spool-wait` `validate()` accepts.
    static func spoolWaitAccepted(_ seconds: Double) -> Bool { seconds > 0 && seconds <= spoolWaitLimit }
    /// A `--spool-idle` `validate()` accepts.
    static func spoolIdleAccepted(_ seconds: Double) -> Bool { seconds > 0 }

    func run() async throws {
        do { try pg.apply() } catch {
            throw CommandFailure(ExitStatus.walUnavailable, describe(error))
        }
        if prefetch > 0, !Self.spoolRefused, WALFileName(fileName)?.kind == .segment, fromSpool() { return }
        var lastError = ""
        for attempt in 1...attempts {
            do {
                let repo = try await options.open()
                let archive = WALArchive(repo: repo, name: pg.resolvedWALName)
                guard try await archive.fetch(fileName, to: destination) else {
                    // Definitely absent: PostgreSQL asks for files that do not exist yet, so no error line.
                    throw CommandFailure(ExitStatus.failure)
                }
                return
            } catch let e as CommandFailure {
                throw e
            } catch {
                lastError = describe(error)
                Terminal.warn("wal-fetch \(fileName): attempt \(attempt) of \(attempts) failed: \(lastError)")
                if attempt < attempts { try? await Task.sleep(nanoseconds: UInt64(250_000_000) << UInt64(attempt - 1)) }
            }
        }
        throw CommandFailure(ExitStatus.walUnavailable, "wal-fetch \(fileName): the archive could not be read (\(lastError)); exiting \(ExitStatus.walUnavailable) so recovery stops instead of ending early")
    }

    /// Serves the segment through `WALSpoolClient` (the spool, its background fetcher started with
    /// this command's options). False: fetch it from the repository directly.
    private func fromSpool() -> Bool {
        let client: WALSpoolClient
        let launcher: WALFetcherLauncher
        do {
            let directory = try WALSpool(path: WALSpoolClient.spoolPath(option: spool, destination: destination))
            let url = try options.repositoryURL()
            client = WALSpoolClient(spool: directory, identity: WALSpoolClient.identity(repositoryURL: url, walName: pg.resolvedWALName),
                                    prefetch: prefetch, waitSeconds: spoolWait, warn: { Terminal.warn($0) })
            launcher = WALFetcherLauncher(executable: ChildRunner.selfExecutable, repositoryURL: url, walName: pg.resolvedWALName,
                                          capacity: prefetch, jobs: fetchJobs, idleSeconds: spoolIdle,
                                          repositoryArguments: forwardedRepositoryOptions(), passphrase: { [options] in try options.passphrase() })
        } catch {
            Terminal.warn("wal-fetch \(fileName): \(describe(error)); fetching from the repository without a spool")
            return false
        }
        return client.serve(fileName, to: destination, fetcher: launcher)
    }

    /// The repository options given on this command line that the fetcher needs too (none is a secret).
    private func forwardedRepositoryOptions() -> [String] {
        var out: [String] = ["--connections", String(options.connections)]
        if let h = options.keyHintSetting { out += ["--key-hint", h] }
        if let k = options.keyCache { out += ["--key-cache", k] }
        if let l = options.limitDownload { out += ["--limit-download", String(l)] }
        if options.s3VirtualHost { out.append("--s3-virtual-host") }
        return out
    }
}

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

    func validate() throws {
        guard WALFileName.isPlausible(fileName) else { throw ValidationError("\(fileName.debugDescription) is not a WAL file name") }
        guard (0...256).contains(prefetch) else { throw ValidationError("--prefetch must be 0...256") }
        guard (1...16).contains(fetchJobs) else { throw ValidationError("--fetch-jobs must be 1...16") }
        guard (1...20).contains(attempts) else { throw ValidationError("--attempts must be 1...20") }
        guard spoolWait > 0, spoolWait <= 3600, spoolIdle > 0 else { throw ValidationError("--spool-wait must be 1...3600 seconds") }
    }

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

    /// What the spool's segments come from: a spool of another repository or WAL name is emptied.
    static func spoolIdentity(url: String, walName: String) -> String { "repository \(url) wal-name \(walName)" }

    var spoolPath: String { Self.spoolPath(option: spool, destination: destination) }

    /// The spool directory: `--spool`, else $CAIRN_WAL_SPOOL, else `.cairn-prefetch` beside `destination`.
    static func spoolPath(option: String?, destination: String) -> String {
        if let option, !option.isEmpty { return option }
        if let s = ProcessInfo.processInfo.environment["CAIRN_WAL_SPOOL"], !s.isEmpty { return s }
        let dir = (destination as NSString).deletingLastPathComponent
        return (dir.isEmpty ? "." : dir) + "/.cairn-prefetch"
    }

    /// Serves the segment from the spool, starting the background fetcher when it is not running, and
    /// waiting for it while the segment is in its window. False: fetch it from the repository directly
    /// (the spool is unusable or damaged, the fetcher stopped without it, or it did not come in time).
    private func fromSpool() -> Bool {
        let spool: WALSpool
        let identity: String
        do {
            spool = try WALSpool(path: Self.absolute(spoolPath))
            identity = Self.spoolIdentity(url: try options.repositoryURL(), walName: pg.resolvedWALName)
        } catch {
            Terminal.warn("wal-fetch \(fileName): \(describe(error)); fetching from the repository without a spool")
            return false
        }
        if let fd = spool.tryLock() {
            spool.adopt(identity: identity)
            spool.removeBefore(fileName, includingPartial: true)
            close(fd)
        } else {
            guard spool.holds(identity: identity) else { return false }  // a fetcher of another archive is still running
            spool.removeBefore(fileName, includingPartial: false)
        }
        // The fetcher found it missing: only the repository itself may say so (exit 1).
        if spool.endOfArchive() == fileName { return false }
        let deadline = ContinuousClock.now + .milliseconds(Int64(spoolWait * 1000))
        var started = false
        while true {
            // Whether a fetcher runs is read before the spool: one that stops meanwhile has written what it fetched.
            let running = spool.fetcherRunning()
            switch spool.take(fileName, to: destination) {
            case .served:
                refill(spool, identity: identity, running: running)
                return true
            case .damaged(let why):
                Terminal.warn("wal-fetch \(fileName): \(why)")
                return false
            case .absent:
                if spool.endOfArchive() == fileName { return false }
            }
            if !running {
                // The fetcher stopped without this segment (not in the archive, or it failed): ask the repository.
                if started { return false }
                if let fd = spool.tryLock() {
                    started = startFetcher(spool, lockFD: fd, from: fileName)
                    close(fd)
                    if !started { return false }
                }
            } else if let window = spool.window(), !window.contains(fileName) {
                // Before the window: delivered already and taken (PostgreSQL reads a segment again), or
                // older than the read-ahead: from the repository, the fetcher keeps going.
                if window.isAfter(fileName) { return false }
                // Beyond it or on another timeline (a jump, a timeline switch): restart the read-ahead there.
                if started { return false }
                spool.stopFetcher()
            }
            if ContinuousClock.now > deadline {
                Terminal.warn("wal-fetch \(fileName): the background fetcher did not deliver it within \(Int(spoolWait)) s (its messages: \(spool.path)/fetcher.log); stopping it and fetching directly")
                spool.stopFetcher()
                return false
            }
            usleep(5_000)
        }
    }

    /// After a segment came from the spool: restarts the fetcher, from the next segment, when none runs
    /// and the spool is less than half full (unless the archive ends within it).
    private func refill(_ spool: WALSpool, identity: String, running: Bool) {
        guard !running, !spool.fetcherRunning(), let w = WALFileName(fileName) else { return }
        var st = stat()
        guard stat(destination, &st) == 0, st.st_size >= 1 << 20 else { return }
        let size = UInt64(st.st_size)
        let next = WALFileName.segment(timeline: w.timeline, number: w.segmentNumber(segmentSize: size) + 1, segmentSize: size)
        let ahead = spool.entries().filter { $0.name > fileName }
        if ahead.count * 2 >= prefetch { return }
        if let end = spool.endOfArchive(), end > fileName, end.prefix(8) == fileName.prefix(8) { return }
        guard let fd = spool.tryLock() else { return }
        _ = startFetcher(spool, lockFD: fd, from: next)
        close(fd)
    }

    /// Starts `wal-fetch-ahead` from segment `first`, handing it the lock `lockFD` holds. False when it could not start.
    private func startFetcher(_ spool: WALSpool, lockFD: Int32, from first: String) -> Bool {
        do {
            spool.setWindow(nil)
            spool.setEndOfArchive(nil)
            var args = ["wal-fetch-ahead", "--repo", try options.repositoryURL(), "--wal-name", pg.resolvedWALName, "--spool", spool.path,
                        "--capacity", String(prefetch), "--jobs", String(fetchJobs), "--idle", String(spoolIdle)]
            args += forwardedRepositoryOptions()
            args.append(first)
            var passphrase = try options.passphrase()
            defer { for i in passphrase.indices { passphrase[i] = 0 } }
            _ = try WALFetcherLaunch.start(arguments: args, spool: spool, lockFD: lockFD, passphrase: passphrase)
            return true
        } catch {
            Terminal.warn("wal-fetch \(fileName): cannot start the background fetcher (\(describe(error))); fetching from the repository")
            return false
        }
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

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}

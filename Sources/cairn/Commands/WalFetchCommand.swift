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
            ending it early. After a segment, the next --prefetch segments are fetched in parallel into the spool \
            directory (default: .cairn-prefetch beside DESTINATION, i.e. pg_wal/.cairn-prefetch).
            """)


    @OptionGroup var pg: PgOptions
    @OptionGroup var options: RepositoryOptions

    @Option(help: "Segments to prefetch after the requested one (0 turns prefetching off).")
    var prefetch = 8

    @Option(help: "Attempts before giving up on an unreadable repository.")
    var attempts = 3

    @Option(help: "Spool directory for prefetched segments (default: $CAIRN_WAL_SPOOL or DESTINATION's directory/.cairn-prefetch).")
    var spool: String?

    @Argument(help: "The file wanted (%f).")
    var fileName: String

    @Argument(help: "Where to write it (%p).")
    var destination: String

    func validate() throws {
        guard WALFileName.isPlausible(fileName) else { throw ValidationError("\(fileName.debugDescription) is not a WAL file name") }
        guard (0...64).contains(prefetch) else { throw ValidationError("--prefetch must be 0...64") }
        guard (1...20).contains(attempts) else { throw ValidationError("--attempts must be 1...20") }
    }

    func run() async throws {
        do { try pg.apply() } catch {
            Terminal.error(describe(error))
            throw ExitCode(ExitStatus.walUnavailable)
        }
        let spoolDir = spool ?? ProcessInfo.processInfo.environment["CAIRN_WAL_SPOOL"]
            ?? ((destination as NSString).deletingLastPathComponent.isEmpty ? "." : (destination as NSString).deletingLastPathComponent) + "/.cairn-prefetch"
        // A prefetched copy was verified when it was written: take it without opening the repository.
        if rename(spoolDir + "/" + fileName, destination) == 0 { return }
        var lastError = ""
        for attempt in 1...attempts {
            do {
                let repo = try await options.open()
                let archive = WALArchive(repo: repo, name: pg.resolvedWALName)
                guard try await archive.fetch(fileName, to: destination) else {
                    throw ExitCode(ExitStatus.failure)  // definitely absent
                }
                await prefetchNext(archive: archive, spool: spoolDir)
                return
            } catch let e as ExitCode {
                throw e
            } catch {
                lastError = describe(error)
                Terminal.warn("wal-fetch \(fileName): attempt \(attempt) of \(attempts) failed: \(lastError)")
                if attempt < attempts { try? await Task.sleep(nanoseconds: UInt64(250_000_000) << UInt64(attempt - 1)) }
            }
        }
        Terminal.error("wal-fetch \(fileName): the archive could not be read (\(lastError)); exiting \(ExitStatus.walUnavailable) so recovery stops instead of ending early")
        throw ExitCode(ExitStatus.walUnavailable)
    }

    /// Fetches the next segments of the same timeline into the spool, and drops spooled segments older than this one.
    private func prefetchNext(archive: WALArchive, spool: String) async {
        guard prefetch > 0, let w = WALFileName(fileName), w.kind == .segment else { return }
        var st = stat()
        guard stat(destination, &st) == 0, st.st_size > 0 else { return }
        let size = UInt64(st.st_size)
        let n = w.segmentNumber(segmentSize: size)
        if let old = try? DirectoryReader.stringNames(spool) {
            for f in old where f < fileName || f.hasSuffix(".cairn-tmp") { unlink(spool + "/" + f) }
        }
        let wanted = (1...prefetch).map { WALFileName.segment(timeline: w.timeline, number: n + UInt64($0), segmentSize: size) }
            .filter { (try? archive.lookup($0).isEmpty == false) == true }
        guard !wanted.isEmpty else { return }
        guard mkdir(spool, 0o700) == 0 || errno == EEXIST else { return }
        _ = await archive.prefetch(wanted, into: spool)
    }
}

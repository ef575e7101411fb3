import CairnPostgres
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The restore_command's common case without the argument parser: PostgreSQL starts one
/// `cairn wal-fetch` per WAL segment, and while the background fetcher runs nearly every one of
/// them only moves a spooled segment into place and hashes it. Parsing the command line with the
/// argument parser costs about as much as that (its reflection of the options), so the command
/// lines `cairn pg restore` writes are read here, and the segment is served when the spool can
/// serve it without waiting (`WALSpoolClient.serveBesideRunningFetcher`, with the checks of its
/// `serve`). Anything else — another option, a value out of range, no fetcher running, a segment
/// not spooled, a damaged copy — returns false, and the command then runs through the parser as before.
extension WalFetchCommand {
    /// The options the quick path reads, with the values `validate()` accepts (but a prefetch
    /// of 0, which has no spool: the full command's).
    private static let quickOptions: [String: @Sendable (String) -> Bool] = [
        "--env-file": { !$0.isEmpty }, "--wal-name": { !$0.isEmpty }, "--spool": { !$0.isEmpty },
        "--prefetch": { Int($0).map { $0 > 0 && prefetchRange.contains($0) } ?? false },
        "--fetch-jobs": { Int($0).map(fetchJobsRange.contains) ?? false },
        "--attempts": { Int($0).map(attemptsRange.contains) ?? false },
        "--spool-wait": { Double($0).map(spoolWaitAccepted) ?? false },
        "--spool-idle": { Double($0).map(spoolIdleAccepted) ?? false },
    ]

    /// Set when the quick path found the spooled copy damaged (and removed it): the command then
    /// fetches the segment from the repository without looking at the spool again.
    nonisolated(unsafe) static var spoolRefused = false

    /// Serves `arguments` (`wal-fetch …`, without the program name) from the spool; true when the
    /// segment is at its destination, checked, and the command is done.
    static func serveFromSpool(_ arguments: [String]) -> Bool {
        guard arguments.first == configuration.commandName, let parsed = quickParse(arguments.dropFirst()),
              parsed.positional.count == 2 else { return false }
        let (fileName, destination) = (parsed.positional[0], parsed.positional[1])
        guard WALFileName(fileName)?.kind == .segment else { return false }
        // In the order the full command applies them: $CAIRN_ENV_FILE, then --env-file over it.
        do {
            try PgEnvFile.apply(ProcessInfo.processInfo.environment["CAIRN_ENV_FILE"])
            try PgEnvFile.apply(parsed.options["--env-file"])
        } catch { return false }
        let environment = ProcessInfo.processInfo.environment
        guard let url = environment["CAIRN_REPO"], !url.isEmpty else { return false }
        let walName = PgOptions.walName(option: parsed.options["--wal-name"])
        guard let spool = try? WALSpool(path: WALSpoolClient.spoolPath(option: parsed.options["--spool"], destination: destination)) else { return false }
        let client = WALSpoolClient(spool: spool, identity: WALSpoolClient.identity(repositoryURL: url, walName: walName))
        // Only beside a running fetcher of this archive: starting or restarting one is the full command's.
        switch client.serveBesideRunningFetcher(fileName, to: destination) {
        case .served:
            return true
        case .refused(let why):
            Terminal.warn("wal-fetch \(fileName): \(why)")
            // As `WALSpoolClient.serve` does with a damaged copy: straight to the repository, no wait for the spool.
            spoolRefused = true
            return false
        case .notServed:
            return false
        }
    }

    /// The options (each at most once, as `--name VALUE` or `--name=VALUE`) and the positional
    /// arguments; nil for anything the quick path does not take.
    private static func quickParse(_ arguments: ArraySlice<String>) -> (options: [String: String], positional: [String])? {
        var options: [String: String] = [:]
        var positional: [String] = []
        var i = arguments.startIndex
        while i < arguments.endIndex {
            let a = arguments[i]
            i += 1
            guard a.hasPrefix("-") else { positional.append(a); continue }
            let parts = a.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let name = parts[0]
            guard let valid = quickOptions[name], options[name] == nil else { return nil }
            let value: String
            if parts.count == 2 {
                value = parts[1]
            } else {
                guard i < arguments.endIndex, !arguments[i].hasPrefix("-") else { return nil }
                value = arguments[i]
                i += 1
            }
            guard valid(value) else { return nil }
            options[name] = value
        }
        return (options, positional)
    }
}

import ArgumentParser
import CLinuxShims
import CairnEngine
import CairnRepository
import CairnOps
import Foundation

/// `cairn`: the command-line front end. Parsing and printing only; the work
/// is in CairnEngine.
@main
struct CairnCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cairn",
        abstract: "Content-addressed, deduplicating, encrypted backups.",
        discussion: "Shell completion: cairn --generate-completion-script bash|zsh|fish (README.md says where to install it).",
        version: CairnVersion.string,
        subcommands: [InitCommand.self, BackupCommand.self, SnapshotsCommand.self, LsCommand.self, DiffCommand.self, FindCommand.self, StatsCommand.self,
                      RestoreCommand.self, DumpCommand.self, MountCommand.self, KeyCommand.self, ChunkCommand.self, IndexCommand.self, ScrubCommand.self, RepairCommand.self,
                      ForgetCommand.self, TagCommand.self, PruneCommand.self, LocksCommand.self, UnlockCommand.self, LockCommand.self,
                      PgCommand.self, WalPushCommand.self, WalFetchCommand.self, WalFetchAheadCommand.self, RedisCommand.self,
                      PlanCommand.self, RunCommand.self, StatusCommand.self, DrillCommand.self, ScheduleCommand.self,
                      CopyCommand.self, RecoverCommand.self, ReportCommand.self, MigrateCommand.self])

    static func main() async {
        // Before any key exists: a core dump would hold the master key (Docs/security.md).
        if cairn_disable_core_dumps() != 0 {
            Terminal.warn("cannot turn core dumps off for this process (\(String(cString: strerror(errno)))): a crash could write key material to disk")
        }
        // PostgreSQL's restore_command during a recovery: most calls only hand over a spooled segment.
        if WalFetchCommand.serveFromSpool(Array(CommandLine.arguments.dropFirst())) { return }
        // The pipeline frees and reallocates megabytes of chunks per batch on
        // several threads; glibc's default 128 KiB trim threshold hands that
        // memory back and faults it in again every batch (the page faults:
        // Docs/performance.md, "Second pass"). Peak RSS is unchanged: it is
        // reached either way.
        cairn_set_malloc_trim_threshold(64 << 20)
        // Before anything reaches OpenSSL: the key derivation's 32 MiB buffer on
        // huge pages shortens every command that opens a repository (Docs/performance.md).
        _ = cairn_openssl_use_huge_pages()
        SignalHandling.install()
        do {
            var command = try parseCommand(Array(CommandLine.arguments.dropFirst()))
            // Every command reads its settings from $CAIRN_ENV_FILE, as the
            // pg/wal-* commands always did (their --env-file applies too).
            try PgEnvFile.apply(ProcessInfo.processInfo.environment["CAIRN_ENV_FILE"])
            if var async = command as? AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
            await CommandLocks.releaseAll()
            // Said once the command succeeded: a failing one keeps its one-line error.
            Passphrase.flushExposureWarnings()
        } catch {
            await CommandLocks.releaseAll()
            if exitCode(for: error) == .success && !(error is CommandFailure) {
                // --help, --version
                self.exit(withError: error)
            }
            let outcome = ExitMapping.outcome(of: error, for: self)
            ExitMapping.report(outcome)
            Foundation.exit(outcome.status)
        }
    }

    /// The command `arguments` ask for. `wal-fetch` is PostgreSQL's restore_command, one process per
    /// WAL segment during a recovery: it is parsed on its own, because building the parser of every
    /// command costs about as much as serving a segment from the spool. Whatever that parse refuses
    /// (`--help`, a mistake) goes through the full parser, which answers as for any other command.
    static func parseCommand(_ arguments: [String]) throws -> ParsableCommand {
        if arguments.first == WalFetchCommand.configuration.commandName,
           let command = try? WalFetchCommand.parseAsRoot(Array(arguments.dropFirst())) {
            return command
        }
        return try parseAsRoot(GlobalArguments.hoist(arguments))
    }
}

import ArgumentParser
import CairnEngine
import CairnRepository
import CairnPostgres
import Foundation

/// `archive_command = 'cairn wal-push --env-file /etc/cairn/pg.env %p'`.
struct WalPushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal-push",
        abstract: "Archive one PostgreSQL WAL file (archive_command): exit 0 only once it is durably stored.",
        discussion: "Pushing a file already archived with identical content exits 0; with different content it exits 1 and says so. History files are never overwritten.")

    @OptionGroup var pg: PgOptions
    @OptionGroup var options: RepositoryOptions

    @Argument(help: "The file to archive (%p, relative to the data directory).")
    var path: String

    @Argument(help: "The name to archive it under (%f; default: the last component of PATH).")
    var fileName: String?

    func run() async throws {
        try pg.apply()
        let name = fileName ?? (path as NSString).lastPathComponent
        guard WALFileName(name) != nil else { throw CairnError.invalidArgument(PostgresError.badWALName(name).description) }
        let started = Clock.monotonic()
        let repo = try await options.open()
        let archive = WALArchive(repo: repo, name: pg.resolvedWALName)
        // Already archived (PostgreSQL retrying after a crash): answered without a lock.
        var outcome = try archive.check(path: path, fileName: name)
        if outcome == nil {
            // A shared lock, like every backup: a prune cannot delete what the push dedups against.
            // A prune holding the exclusive lock makes the push fail at once; PostgreSQL retries it.
            let lock = try await LockManager(repo: repo, notice: { Terminal.warn($0) })
                .acquire(exclusive: false, operation: "wal-push \(name)", wait: 0)
            outcome = try await lock.holding {
                try await repo.sync()  // what a prune finished before the lock was ours
                return try await archive.push(path: path, fileName: name)
            }
        }
        guard let outcome else { return }
        let seconds = Clock.monotonic() - started
        switch outcome {
        case .stored(let id):
            if options.json { Terminal.json(WalPushJSON(file: name, snapshot_id: id, already_archived: false, seconds: seconds)) }
        case .alreadyArchived:
            if options.json { Terminal.json(WalPushJSON(file: name, snapshot_id: nil, already_archived: true, seconds: seconds)) }
            else { Terminal.info("cairn: \(name) is already archived with identical content") }
        }
    }
}

struct WalPushJSON: Encodable { let file: String, snapshot_id: String?, already_archived: Bool, seconds: Double }

import ArgumentParser
import CairnEngine
import CairnPostgres
import Foundation

struct PgDumpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Run 'pg_dump -Fc -Z0' and store its output as a snapshot (none if pg_dump fails).")

    @OptionGroup var pg: PgOptions
    @OptionGroup var options: RepositoryOptions
    @OptionGroup var lockOptions: LockOptions

    @Option(help: "Snapshot name.")
    var name: String

    @Option(help: "libpq connection string or URI, without a password (default: the PG* environment).")
    var dbname = ""

    @Option(name: .customLong("tag"), help: "A tag to record (repeatable).")
    var tags: [String] = []

    @Argument(parsing: .postTerminator, help: "Extra pg_dump arguments, after '--'.")
    var pgDumpArguments: [String] = []

    func validate() throws {
        try SnapshotNameArgument.validate(name)
        if tags.contains(where: { $0.isEmpty }) { throw ValidationError("--tag is empty") }
    }

    func run() async throws {
        try pg.apply()
        let (repo, lock) = try await options.openLocked(exclusive: false, operation: "pg dump", wait: lockOptions.seconds)
        let r = try await lock.holding { try await LogicalDump(repo: repo).dump(name: name, conninfo: dbname, arguments: pgDumpArguments, tags: tags) }
        let s = r.snapshot
        if options.json {
            Terminal.json(PgDumpJSON(snapshot_id: r.snapshotID, name: s.name, database: s.extra[LogicalDump.Key.database] ?? "",
                                     server_version: s.extra[LogicalDump.Key.serverVersion] ?? "", logical_bytes: s.logicalBytes,
                                     new_bytes: r.newBytes, stored_bytes: r.storedBytes, seconds: r.seconds))
        } else {
            Terminal.out("dump snapshot \(r.snapshotID.prefix(8)) saved: database \(s.extra[LogicalDump.Key.database] ?? "?"), \(Terminal.bytes(s.logicalBytes)) logical, \(Terminal.bytes(r.newBytes)) new, \(String(format: "%.2f", r.seconds)) s")
        }
    }
}

struct PgDumpJSON: Encodable {
    let snapshot_id: String, name: String, database: String, server_version: String
    let logical_bytes: UInt64, new_bytes: UInt64, stored_bytes: UInt64, seconds: Double
}

struct PgRestoreDumpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore-dump",
        abstract: "Stream a dump snapshot into pg_restore.")

    @OptionGroup var pg: PgOptions
    @OptionGroup var options: RepositoryOptions
    @OptionGroup var lockOptions: ReadLockOptions

    @Argument(help: "Snapshot id, prefix, or 'latest' (with --name).")
    var snapshot: String

    @Option(help: "With 'latest': the dump's snapshot name.")
    var name: String?

    @Option(help: "libpq connection string of the database to restore into (with --create: the one to connect to first).")
    var dbname: String

    @Flag(help: "Create the database recorded in the dump (pg_restore --create).")
    var create = false

    @Argument(parsing: .postTerminator, help: "Extra pg_restore arguments, after '--'.")
    var pgRestoreArguments: [String] = []

    func run() async throws {
        try pg.apply()
        let repo = try await options.openForReading(operation: "pg restore-dump", lockOptions: lockOptions)
        let record = try repo.resolveSnapshot(snapshot, name: name)
        let bytes = try await LogicalDump(repo: repo).restore(snapshot: record, conninfo: dbname, create: create, arguments: pgRestoreArguments)
        if options.json { Terminal.json(["snapshot_id": record.id.hex, "bytes": String(bytes)]) }
        else { Terminal.out("restored dump \(record.id.prefix(8)) (\(Terminal.bytes(bytes))) through pg_restore") }
    }
}

import ArgumentParser
import CairnEngine
import CairnRepository
import CairnRedisSource

/// `cairn redis restore`: parses and prints; CairnRedisSource's `RedisRestore`
/// writes the RDB, validated again and checked against the recorded key count
/// before it gets the target's name.
struct RedisRestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Write a Redis snapshot's RDB to a file (validated before it is renamed into place).",
        discussion: """
        Stop Redis before placing the file as its dir/dbfilename. A server with an AOF loads the AOF,
        not the RDB: see Docs/redis.md for the procedure.
        """)

    @OptionGroup var options: RepositoryOptions
    @OptionGroup var lockOptions: ReadLockOptions

    @Argument(help: "Snapshot id, unique id prefix, or latest.")
    var snapshot: String

    @Option(help: "With latest: the snapshot name to pick from (default: redis).")
    var name: String?

    @Option(help: "The RDB file to write.")
    var target: String

    @Flag(help: "Replace the target when it exists.")
    var force = false

    func run() async throws {
        let repo = try await options.openForReading(operation: "redis restore", lockOptions: lockOptions)
        let record = try repo.resolveSnapshot(snapshot, name: name ?? (snapshot == "latest" ? "redis" : nil))
        let progress = WorkProgress()
        let outcome = try await ProgressLine.showing(progress, verb: "restoring", enabled: options.showProgress) {
            try await RedisRestore(repo: repo, snapshot: record).run(target: target, force: force, progress: progress)
        }
        let summary = outcome.summary
        if options.json {
            Terminal.json(RedisRestoreJSON(snapshot_id: record.id.hex, target: target, bytes: outcome.bytes, rdb_version: summary.version,
                                           keys: summary.keys, checksum: summary.checksumVerified ? String(summary.storedChecksum, radix: 16) : "disabled"))
        } else {
            Terminal.out("restored snapshot \(record.id.prefix(8)) to \(target): \(Terminal.bytes(outcome.bytes)), RDB v\(summary.version), \(summary.keys) keys, checksum \(summary.checksumVerified ? "OK" : "disabled in the source")")
        }
    }
}

struct RedisRestoreJSON: Encodable {
    let snapshot_id: String, target: String, bytes: UInt64, rdb_version: Int, keys: UInt64, checksum: String
}

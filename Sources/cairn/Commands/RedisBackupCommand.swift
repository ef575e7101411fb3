import ArgumentParser
import CairnEngine
import CairnRepository
import CairnFormat
import CairnRedisClient
import CairnRedisSource
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `cairn redis backup`: parses the options and prints; the flow (replication
/// or a file after BGSAVE, validated while it streams, committed only when the
/// RDB passed) is CairnRedisSource's `RedisBackup`.
struct RedisBackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Store a Redis RDB (fetched from a live server, or an RDB file) as a snapshot.",
        discussion: """
        The password comes from --redis-password-file or REDISCLI_AUTH, never from the command line.
        With --file, cairn first waits for a running BGSAVE to finish (INFO persistence) when the
        server at --url answers; without --url it tries redis://127.0.0.1:6379 and goes on when
        nothing listens there.
        """)

    @OptionGroup var options: RepositoryOptions
    @OptionGroup var lockOptions: LockOptions

    @Option(help: "Snapshot name.")
    var name: String = "redis"

    @Option(help: "Server: redis://[USER@]HOST[:PORT] (rediss:// for TLS). Default redis://127.0.0.1:6379.")
    var url: String?

    @Flag(help: "Connect with TLS (as rediss:// does); the server's certificate and name are verified.")
    var tls = false

    @Option(help: "CA certificates (PEM) to verify the TLS server with (default: the system's).")
    var tlsCaFile: String?

    @Option(help: "Ingest this RDB file instead of fetching one from the server.")
    var file: String?

    @Option(help: "File holding the Redis password (default: $REDISCLI_AUTH).")
    var redisPasswordFile: String?

    @Option(help: "Seconds to wait for a running BGSAVE (with --file) or for the server to send data.")
    var waitTimeout: Int = 600

    @OptionGroup var recording: SnapshotRecordingOptions

    @Option(help: "Chunker profile (default: rdb, 2/8/32 KiB, chosen in Docs/chunking.md).")
    var chunkProfile: String = ChunkerProfileName.rdb

    @Flag(help: "Accept an RDB without a checksum (server with rdbchecksum no): its structure is still checked as redis-check-rdb does, but a changed byte inside a value would go unnoticed.")
    var allowNoChecksum = false

    func validate() throws {
        try SnapshotNameArgument.validate(name)
        if waitTimeout <= 0 { throw ValidationError("--wait-timeout must be positive") }
    }

    func run() async throws {
        signal(SIGPIPE, SIG_IGN)
        var endpoint = try Self.endpoint(url)
        if tls { endpoint.tls = true }
        if let tlsCaFile {
            guard FileManager.default.isReadableFile(atPath: tlsCaFile) else { throw CairnError.invalidArgument("cannot read --tls-ca-file \(tlsCaFile)") }
            endpoint.caFile = tlsCaFile
        }
        let backup = RedisBackup(endpoint: endpoint, password: try RedisPassword.read(file: redisPasswordFile),
                                 input: file.map { .file($0, serverGiven: url != nil) } ?? .replication,
                                 waitTimeoutSeconds: waitTimeout, allowNoChecksum: allowNoChecksum)
        var opts = BackupOptions(name: name)
        recording.apply(to: &opts)
        opts.profile = chunkProfile
        // A shared lock for the whole backup, as `cairn backup` takes: no prune deletes what it dedups against.
        let (repo, lock) = try await options.openLocked(exclusive: false, operation: "redis backup", wait: lockOptions.seconds)
        let progress = WorkProgress()
        let result = try await lock.holding {
            try await ProgressLine.showing(progress, verb: "backing up", enabled: options.showProgress) {
                try await backup.run(repo: repo, options: opts, progress: progress)
            }
        }
        let s = result.snapshot
        if options.json {
            Terminal.json(RedisBackupJSON(snapshot_id: result.snapshotID, name: s.name, time: Terminal.rfc3339(s.timeNanos),
                                          logical_bytes: s.logicalBytes, new_bytes: result.newBytes, stored_bytes: result.storedBytes,
                                          seconds: result.seconds, rdb_version: Int(s.extra[.redisRDBVersion] ?? "") ?? 0,
                                          keys: UInt64(s.extra[.redisKeys] ?? "") ?? 0, checksum: s.extra[.redisChecksum] ?? ""))
        } else {
            Terminal.out("snapshot \(result.snapshotID.prefix(8)) saved: RDB v\(s.extra[.redisRDBVersion] ?? "?"), \(s.extra[.redisKeys] ?? "?") keys, checksum \(s.extra[.redisChecksum] ?? "?"); \(Terminal.bytes(s.logicalBytes)) logical, \(Terminal.bytes(result.newBytes)) new, \(Terminal.bytes(result.storedBytes)) stored, \(String(format: "%.2f", result.seconds)) s")
        }
    }

    static func endpoint(_ url: String?) throws -> RedisEndpoint {
        do { return try url.map(RedisEndpoint.parse) ?? RedisEndpoint() } catch let e as RedisError {
            throw CairnError.usage(e.description)
        }
    }
}

struct RedisBackupJSON: Encodable {
    let snapshot_id: String
    let name: String
    let time: String
    let logical_bytes: UInt64
    let new_bytes: UInt64
    let stored_bytes: UInt64
    let seconds: Double
    let rdb_version: Int
    let keys: UInt64
    let checksum: String
}

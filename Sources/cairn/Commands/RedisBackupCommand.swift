import ArgumentParser
import CairnCompression
import CairnEngine
import CairnRepository
import CairnFormat
import CairnRedis
import CairnRedisClient
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `cairn redis backup`: a consistent RDB from a live server (replication
/// handshake, like `redis-cli --rdb`) or from a file after any running BGSAVE
/// finished, validated while it streams into the archiver. The snapshot is
/// committed only when the RDB passed: magic, version, structure to the
/// end-of-file opcode, CRC-64.
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
    var chunkProfile: String = "rdb"

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
        let password = try RedisPassword.read(file: redisPasswordFile)
        // A shared lock for the whole backup, as `cairn backup` takes: no prune deletes what it dedups against.
        let (repo, lock) = try await options.openLocked(exclusive: false, operation: "redis backup", wait: lockOptions.seconds)
        try await lock.holding { try await backup(repo: repo, endpoint: endpoint, password: password) }
    }

    private func backup(repo: Repository, endpoint: RedisEndpoint, password: [UInt8]?) async throws {
        var facts: [String: String] = [:]
        let pipe: ValidatingPipe
        let label: String
        if let file {
            facts = try waitForSave(endpoint: endpoint, explicit: url != nil, password: password)
            let source = try FileDescriptorSource(path: file)
            pipe = try ValidatingPipe { source }
            label = file
            facts[.redisSource] = "file"
            try await backup(repo: repo, pipe: pipe, label: label, facts: facts)
        } else {
            let timeout = waitTimeout, endpoint = endpoint
            pipe = try ValidatingPipe { try ReplicationSource(endpoint: endpoint, password: password, timeoutSeconds: timeout) }
            facts[.redisSource] = "replication"
            facts[.redisServer] = endpoint.display
            try await backup(repo: repo, pipe: pipe, label: "redis://\(endpoint.display)", facts: facts)
        }
    }

    static func endpoint(_ url: String?) throws -> RedisEndpoint {
        do { return try url.map(RedisEndpoint.parse) ?? RedisEndpoint() } catch let e as RedisError {
            throw CairnError.usage(e.description)
        }
    }

    /// With --file: waits for a running BGSAVE on the server, when there is one to ask.
    private func waitForSave(endpoint: RedisEndpoint, explicit: Bool, password: [UInt8]?) throws -> [String: String] {
        let connection: RedisConnection
        do {
            connection = try RedisConnection(endpoint: endpoint, timeoutSeconds: 30)
        } catch let e as RedisError {
            if explicit { throw CairnError.io("\(e.description) (needed to wait for a running BGSAVE; leave out --url when the server is stopped)") }
            return [String: String](extra: [.redisBackgroundSaveWait: "no server at \(endpoint.display)"])
        }
        defer { connection.close() }
        do {
            if let password { try connection.authenticate(username: endpoint.username, password: password) }
            let state = try BackgroundSaveWaiter.wait(connection: connection, timeoutSeconds: Double(waitTimeout))
            if state.aofEnabled {
                Terminal.warn("the server at \(endpoint.display) has AOF enabled: it loads its AOF, not this RDB, at start (see Docs/redis.md for restoring)")
            }
            if state.lastSaveStatus != "ok" {
                Terminal.warn("the server's last BGSAVE status is \(state.lastSaveStatus.debugDescription): the RDB file may be older than you expect")
            }
            return [String: String](extra: [.redisBackgroundSaveWait: String(format: "%.1fs", state.waitedSeconds), .redisLastSaveTime: state.lastSaveTime])
        } catch let e as RedisError {
            throw CairnError.io(e.description)
        }
    }

    private func backup(repo: Repository, pipe: ValidatingPipe, label: String, facts: [String: String]) async throws {
        var opts = BackupOptions(name: name)
        recording.apply(to: &opts)
        opts.profile = chunkProfile
        opts.extra = facts
        let allowNoChecksum = self.allowNoChecksum
        opts.beforeCommit = {
            do {
                let summary = try await pipe.result()
                // Without a checksum only the structure vouches for the bytes: refused unless the operator accepts that.
                if !summary.checksumVerified && !allowNoChecksum {
                    throw CairnError.invalidArgument("\(label): the RDB carries no checksum (the server runs with 'rdbchecksum no', or its checksum was zeroed): its structure passed the checks redis-check-rdb makes, but a byte changed inside a value would go unnoticed. Turn checksums on (redis-cli CONFIG SET rdbchecksum yes; CONFIG REWRITE) or pass --allow-no-checksum; no snapshot was saved")
                }
                if !summary.checksumVerified && summary.uncheckedValues > 0 {
                    throw CairnError.invalidArgument("\(label): the RDB carries no checksum and \(summary.uncheckedValues) of its values are too large to check as redis-check-rdb does within Cairn's memory bound (a container over 8 MiB or a collection of over 2 million members): nothing vouches for them. Turn checksums on (redis-cli CONFIG SET rdbchecksum yes; CONFIG REWRITE); no snapshot was saved")
                }
                return BackupAdditions(extra: summary.snapshotFacts)
            } catch let e as RDBError {
                throw CairnError.invalidArgument("\(label): \(e.description); no snapshot was saved")
            } catch let e as RedisError {
                throw CairnError.io("\(e.description); no snapshot was saved")
            }
        }
        let archiver = Archiver(repo: repo, options: opts)
        let result: BackupResult
        do {
            result = try await ProgressLine.showing(archiver.progress, verb: "backing up", enabled: options.showProgress) {
                try await archiver.backup(streamFD: pipe.readFD, label: label)
            }
            close(pipe.readFD)
        } catch {
            close(pipe.readFD)
            throw error
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

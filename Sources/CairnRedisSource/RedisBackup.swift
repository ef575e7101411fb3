import CairnEngine
import CairnRepository
import CairnFormat
import CairnRedis
import CairnRedisClient
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A Redis backup: a consistent RDB from a live server (replication
/// handshake, like `redis-cli --rdb`) or from a file after any running BGSAVE
/// finished, validated while it streams into the archiver. The snapshot is
/// committed only when the RDB passed: magic, version, structure to the
/// end-of-file opcode, CRC-64 (format-spec §13's `redis.*` facts record what it held).
public struct RedisBackup: Sendable {
    /// Where the RDB comes from.
    public enum Input: Sendable, Equatable {
        /// The server's replication stream.
        case replication
        /// An RDB file, read once a running BGSAVE on the server finished. `serverGiven`: the
        /// server was named, so one that does not answer is an error; otherwise the backup notes
        /// that none answered and goes on (a stopped server's file).
        case file(String, serverGiven: Bool)
    }

    public var endpoint: RedisEndpoint
    /// The server's password (AUTH), never on a command line.
    public var password: [UInt8]?
    public var input: Input
    /// Seconds to wait for a running BGSAVE (a file) or for the server to send data (replication).
    public var waitTimeoutSeconds: Int
    /// Accept an RDB without a checksum (`rdbchecksum no`): its structure is still checked.
    public var allowNoChecksum: Bool

    public init(endpoint: RedisEndpoint, password: [UInt8]?, input: Input, waitTimeoutSeconds: Int = 600, allowNoChecksum: Bool = false) {
        self.endpoint = endpoint; self.password = password; self.input = input
        self.waitTimeoutSeconds = waitTimeoutSeconds; self.allowNoChecksum = allowNoChecksum
    }

    /// Backs the RDB up into `repo` as one stream snapshot with `options` (name, profile, tags;
    /// this flow adds its facts to `extra` and sets `beforeCommit`). Warnings (AOF enabled, a
    /// failed last BGSAVE) go to the repository's warnings.
    public func run(repo: Repository, options: BackupOptions, progress: WorkProgress = WorkProgress()) async throws -> BackupResult {
        var facts: [String: String] = options.extra
        let pipe: ValidatingPipe
        let label: String
        switch input {
        case .file(let path, let serverGiven):
            facts.merge(try waitForSave(explicit: serverGiven, warnings: repo.warnings)) { $1 }
            let source = try FileDescriptorSource(path: path)
            pipe = try ValidatingPipe { source }
            label = path
            facts[.redisSource] = "file"
        case .replication:
            let timeout = waitTimeoutSeconds, endpoint = endpoint, password = password
            pipe = try ValidatingPipe { try ReplicationSource(endpoint: endpoint, password: password, timeoutSeconds: timeout) }
            label = "redis://\(endpoint.display)"
            facts[.redisSource] = "replication"
            facts[.redisServer] = endpoint.display
        }
        return try await backup(repo: repo, pipe: pipe, label: label, options: options, facts: facts, progress: progress)
    }

    /// With a file: waits for a running BGSAVE on the server, when there is one to ask.
    private func waitForSave(explicit: Bool, warnings: any WarningReporter) throws -> [String: String] {
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
            let state = try BackgroundSaveWaiter.wait(connection: connection, timeoutSeconds: Double(waitTimeoutSeconds))
            if state.aofEnabled {
                warnings.warn("the server at \(endpoint.display) has AOF enabled: it loads its AOF, not this RDB, at start (see Docs/redis.md for restoring)")
            }
            if state.lastSaveStatus != "ok" {
                warnings.warn("the server's last BGSAVE status is \(state.lastSaveStatus.debugDescription): the RDB file may be older than you expect")
            }
            return [String: String](extra: [.redisBackgroundSaveWait: String(format: "%.1fs", state.waitedSeconds), .redisLastSaveTime: state.lastSaveTime])
        } catch let e as RedisError {
            throw CairnError.io(e.description)
        }
    }

    private func backup(repo: Repository, pipe: ValidatingPipe, label: String, options: BackupOptions, facts: [String: String],
                        progress: WorkProgress) async throws -> BackupResult {
        var opts = options
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
        let archiver = Archiver(repo: repo, options: opts, progress: progress)
        defer { close(pipe.readFD) }
        return try await archiver.backup(streamFD: pipe.readFD, label: label)
    }
}

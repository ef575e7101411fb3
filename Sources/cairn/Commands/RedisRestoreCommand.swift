import ArgumentParser
import CairnEngine
import CairnRepository
import CairnFormat
import CairnRedis
import CairnRedisClient
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `cairn redis restore`: writes a snapshot's RDB to a file, validated again
/// (structure and CRC-64) and checked against the key count recorded at
/// backup time before it gets the target's name.
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
        let extra = record.snapshot.extra
        guard let recordedVersion = extra[.redisRDBVersion] else {
            throw CairnError.invalidArgument("snapshot \(record.id.prefix(8)) (\(record.snapshot.name)) is not a Redis RDB snapshot: use 'cairn restore'")
        }
        var st = stat()
        if lstat(target, &st) == 0 {
            guard force else { throw CairnError.invalidArgument("\(target) exists: stop Redis and use --force to replace it, or pick another --target") }
            guard (st.st_mode & S_IFMT) == S_IFREG else { throw CairnError.invalidArgument("\(target) exists and is not a regular file") }
        }
        let tmp = target + ".cairn-restore"
        let fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CairnError.io("cannot create \(tmp): \(String(cString: strerror(errno)))") }
        var renamed = false
        defer {
            close(fd)
            if !renamed { unlink(tmp) }
        }
        let restorer = Restorer(repo: repo, snapshot: record)
        let bytes = try await ProgressLine.showing(restorer.progress, verb: "restoring", enabled: options.showProgress) {
            try await restorer.restoreSingleFile(to: fd)
        }
        guard fsync(fd) == 0 else { throw CairnError.io("cannot sync \(tmp): \(String(cString: strerror(errno)))") }
        guard lseek(fd, 0, SEEK_SET) == 0 else { throw CairnError.io("cannot rewind \(tmp): \(String(cString: strerror(errno)))") }
        let summary: RDBSummary
        do { summary = try RDBValidator.validate(FileDescriptorSource(fd: fd, label: tmp)) } catch let e as RDBError {
            throw CairnError.other("the restored RDB of snapshot \(record.id.prefix(8)) does not validate: \(e.description); \(target) was not written")
        }
        if String(summary.version) != recordedVersion || extra[.redisKeys].map({ $0 != String(summary.keys) }) == true {
            throw CairnError.other("the restored RDB of snapshot \(record.id.prefix(8)) holds \(summary.keys) keys (version \(summary.version)), the backup recorded \(extra[.redisKeys] ?? "?") (version \(recordedVersion)); \(target) was not written")
        }
        guard rename(tmp, target) == 0 else { throw CairnError.io("cannot rename \(tmp) to \(target): \(String(cString: strerror(errno)))") }
        renamed = true
        if options.json {
            Terminal.json(RedisRestoreJSON(snapshot_id: record.id, target: target, bytes: bytes, rdb_version: summary.version,
                                           keys: summary.keys, checksum: summary.checksumVerified ? String(summary.storedChecksum, radix: 16) : "disabled"))
        } else {
            Terminal.out("restored snapshot \(record.id.prefix(8)) to \(target): \(Terminal.bytes(bytes)), RDB v\(summary.version), \(summary.keys) keys, checksum \(summary.checksumVerified ? "OK" : "disabled in the source")")
        }
    }
}

struct RedisRestoreJSON: Encodable {
    let snapshot_id: String, target: String, bytes: UInt64, rdb_version: Int, keys: UInt64, checksum: String
}

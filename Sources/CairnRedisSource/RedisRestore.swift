import CairnEngine
import CairnRepository
import CairnFormat
import CairnRedis
import CairnRedisClient
#if canImport(Glibc)
import Glibc
#endif

/// A Redis restore: writes a snapshot's RDB to a file, validated again
/// (structure and CRC-64) and checked against the key count recorded at
/// backup time before it gets the target's name; on any failure the target
/// is left as it was.
public struct RedisRestore: Sendable {
    /// What was written.
    public struct Outcome: Sendable {
        public var bytes: UInt64
        public var summary: RDBSummary
    }

    public let repo: Repository
    public let snapshot: SnapshotRecord

    public init(repo: Repository, snapshot: SnapshotRecord) { self.repo = repo; self.snapshot = snapshot }

    /// Writes the RDB to `target` (replacing a regular file there only with `force`).
    public func run(target: String, force: Bool, progress: WorkProgress = WorkProgress()) async throws -> Outcome {
        let record = snapshot
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
        let bytes = try await Restorer(repo: repo, snapshot: record, progress: progress).restoreSingleFile(to: fd)
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
        return Outcome(bytes: bytes, summary: summary)
    }
}

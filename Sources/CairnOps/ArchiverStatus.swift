import CairnPostgres
import CairnSystem
import Foundation

/// What PostgreSQL says of its `archive_command` (`pg_stat_archiver`), for
/// `cairn status`: archiving that fails is alerted on at once, while the
/// RPO still holds, not only once the newest archived segment is too old.
public struct ArchiverStatus: Sendable, Codable, Equatable {
    public var archivedCount: Int64
    public var failedCount: Int64
    public var lastArchivedWAL: String?
    public var lastArchivedTime: Double?
    public var lastFailedWAL: String?
    public var lastFailedTime: Double?

    public init(archivedCount: Int64, failedCount: Int64, lastArchivedWAL: String? = nil, lastArchivedTime: Double? = nil,
                lastFailedWAL: String? = nil, lastFailedTime: Double? = nil) {
        self.archivedCount = archivedCount; self.failedCount = failedCount
        self.lastArchivedWAL = lastArchivedWAL; self.lastArchivedTime = lastArchivedTime
        self.lastFailedWAL = lastFailedWAL; self.lastFailedTime = lastFailedTime
    }

    /// Reads `pg_stat_archiver` through libpq.
    public static func query(conninfo: String) throws -> ArchiverStatus {
        let conn = try PGConnection(conninfo)
        let rows = try conn.query("""
            SELECT archived_count::text, failed_count::text, last_archived_wal, extract(epoch FROM last_archived_time)::text,
                   last_failed_wal, extract(epoch FROM last_failed_time)::text FROM pg_stat_archiver
            """)
        guard let r = rows.first, r.count == 6 else { throw OpsError.failed("pg_stat_archiver returned no row") }
        return ArchiverStatus(archivedCount: Int64(r[0] ?? "") ?? 0, failedCount: Int64(r[1] ?? "") ?? 0,
                              lastArchivedWAL: r[2], lastArchivedTime: r[3].flatMap(Double.init),
                              lastFailedWAL: r[4], lastFailedTime: r[5].flatMap(Double.init))
    }

    /// Why archiving needs attention, or nil. `previous` is what the last
    /// `cairn status` saw (nil on the first run, or after a server restart
    /// reset the counters).
    public func problem(previous: ArchiverStatus?) -> String? {
        let last = lastFailedWAL.map { " (last: \($0)\(lastFailedTime.map { " at \(Self.time($0))" } ?? ""))" } ?? ""
        if let failed = lastFailedTime, failed >= (lastArchivedTime ?? 0) {
            return "archive_command is failing: its latest attempt failed and nothing was archived since; \(failedCount) failure(s) in all\(last); PostgreSQL keeps the WAL and retries, but the RPO is lost once it cannot catch up: see the server log for cairn wal-push's message"
        }
        if let previous, previous.failedCount <= failedCount, failedCount > previous.failedCount {
            return "archive_command failed \(failedCount - previous.failedCount) time(s) since the last status check\(last); it has succeeded since, but look in the server log for the cause"
        }
        return nil
    }

    /// `pg_stat_archiver`'s times as RFC 3339 in UTC (as the CLI prints times).
    static func time(_ seconds: Double) -> String {
        RFC3339.utc(seconds: seconds) ?? "\(seconds) s after the epoch"
    }

    /// The state file remembering the last counters seen.
    public static func load(_ path: String) -> ArchiverStatus? {
        guard let d = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(ArchiverStatus.self, from: d)
    }

    public func save(_ path: String) {
        guard let d = try? JSONEncoder().encode(self) else { return }
        let dir = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let tmp = path + ".tmp"
        if FileManager.default.createFile(atPath: tmp, contents: d, attributes: [.posixPermissions: 0o600]) { rename(tmp, path) }
    }
}

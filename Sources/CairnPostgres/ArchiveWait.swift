import CairnEngine
import CairnRepository
import CairnStorage
#if canImport(Glibc)
import Glibc
#endif

/// Waits, for a bounded time, until PostgreSQL's archiver has archived the
/// last WAL segment a base backup needs.
///
/// `pg_backup_stop(wait_for_archive => true)` waits for that forever, and
/// when `archive_command` cannot archive (it fails, or it waits for a lock
/// this backup holds) the backup hangs with it. So the backup stops with
/// `wait_for_archive => false` and polls `pg_stat_archiver` here instead:
/// done once `last_archived_wal` reaches the segment, an error that says
/// what the archiver reports once `timeout` passes.
struct ArchiveWait {
    let conn: PGConnection
    /// Seconds to wait; 0 skips the wait (the backup is then recorded without proof that its WAL is archived).
    var timeout: Double
    var pollInterval: Double = 0.25

    /// The segment that must be archived for a backup that stopped at `stop`
    /// (the segment holding the byte before `stop`, as PostgreSQL waits for).
    static func lastSegment(stop: LSN, timeline: UInt32, segmentSize: UInt64) -> String {
        WALFileName.segment(timeline: timeline, number: (max(stop.value, 1) - 1) / segmentSize, segmentSize: segmentSize)
    }

    /// True when the archiver's `last_archived_wal` (a segment, or a
    /// `.backup`/`.history`/`.partial` file named after one) is at or past `segment`.
    static func reached(_ lastArchived: String?, _ segment: String) -> Bool {
        guard let last = lastArchived, last.count >= 24 else { return false }
        let name = String(last.prefix(24)).uppercased()
        if last.hasSuffix(".history") { return false }
        return name >= segment.uppercased()
    }

    func run(segment: String) async throws {
        guard timeout > 0 else { return }
        let start = Clock.monotonic()
        var last: [String?] = []
        while true {
            try Interruption.shared.checkNotInterrupted()
            let rows = try conn.query("SELECT last_archived_wal, failed_count::text, last_failed_wal, last_failed_time::text FROM pg_stat_archiver")
            last = rows.first ?? []
            if Self.reached(last.first ?? nil, segment) { return }
            if Clock.monotonic() - start >= timeout { break }
            try await Task.sleep(nanoseconds: UInt64(pollInterval * 1e9))
        }
        let archived = (last.first ?? nil) ?? "none"
        let failed = last.count > 1 ? ((last[1] ?? "0")) : "?"
        var why = "pg_stat_archiver: last archived \(archived), \(failed) failed attempt(s) in all"
        if last.count > 3, let wal = last[2], let at = last[3] { why += ", the last for \(wal) at \(at)" }
        throw PostgresError.other("the WAL this base backup needs (up to \(segment)) was not archived within \(Int(timeout)) s (\(why)); the backup was not recorded. Fix archive_command (the server log has cairn wal-push's message; a repository shared with the postgres user needs group access, Docs/postgres.md), then run the base backup again; --archive-timeout changes the wait")
    }
}

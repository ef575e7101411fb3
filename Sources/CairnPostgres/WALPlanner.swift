/// Works out, from the names and archive times of the WAL files alone, which
/// files a recovery from a base backup to a target needs, following timeline
/// history the way PostgreSQL does (`recovery_target_timeline = 'latest'`),
/// and which of them are missing. Pure: no I/O.
public struct WALPlanner: Sendable {
    public enum Target: Sendable, Equatable {
        case latest
        case lsn(LSN)
        /// Nanoseconds since the epoch.
        case time(Int64)
    }

    /// What a recovery will read.
    public struct Plan: Sendable {
        public var targetTimeline: UInt32
        /// Segment files to replay, in order (all present when `missing` is empty).
        public var segments: [String]
        /// History files recovery reads.
        public var histories: [String]
        public var missing: [String]
        /// The archive time of the last segment needed (latest: of the newest one).
        public var endTimeNanos: Int64?
    }

    public var segmentSize: UInt64
    /// Archived file name → archive time (ns).
    public var archived: [String: Int64]
    /// Parsed history files by timeline.
    public var histories: [UInt32: TimelineHistory]

    public init(segmentSize: UInt64, archived: [String: Int64], histories: [UInt32: TimelineHistory]) {
        self.segmentSize = segmentSize; self.archived = archived; self.histories = histories
    }

    /// The timeline recovery will follow: the highest N such that the history
    /// files of every timeline after `start` up to N are archived (PostgreSQL's
    /// `findNewestTimeLine`).
    public func newestTimeline(from start: UInt32) -> UInt32 {
        var t = start
        while archived[WALFileName.history(timeline: t + 1)] != nil { t += 1 }
        return t
    }

    /// Plans the recovery of a base backup that started at `start` on `timeline` and ended at `stop`.
    public func plan(timeline: UInt32, start: LSN, stop: LSN, target: Target) throws -> Plan {
        let targetTLI = newestTimeline(from: timeline)
        var path: [(timeline: UInt32, begin: LSN)] = [(timeline, LSN(0))]
        var historyFiles: [String] = []
        if targetTLI != timeline {
            guard let h = histories[targetTLI] else {
                throw PostgresError.timeline("the history file of timeline \(targetTLI) is archived but could not be read")
            }
            historyFiles.append(WALFileName.history(timeline: targetTLI))
            path = h.path
            guard let i = path.firstIndex(where: { $0.timeline == timeline }) else {
                throw PostgresError.timeline("timeline \(targetTLI) is not a descendant of the base backup's timeline \(timeline)")
            }
            if i + 1 < path.count, path[i + 1].begin < stop {
                throw PostgresError.timeline("timeline \(path[i + 1].timeline) branched off timeline \(timeline) at \(path[i + 1].begin), before this base backup ended (\(stop)); use an older base backup")
            }
            path = Array(path[i...])
            path[0].begin = LSN(0)
        }
        func timelineOf(_ seg: UInt64) -> UInt32 {
            path.last(where: { $0.begin.segment(size: segmentSize) <= seg })?.timeline ?? timeline
        }
        let startSeg = start.segment(size: segmentSize)
        let stopSeg = (stop.value > start.value && stop.value % segmentSize == 0) ? stop.segment(size: segmentSize) - 1 : stop.segment(size: segmentSize)
        // The newest segment archived on the path: the walk goes no further.
        var maxSeg = startSeg
        var anyOnPath = false
        for name in archived.keys {
            guard let w = WALFileName(name), w.kind == .segment else { continue }
            let n = w.segmentNumber(segmentSize: segmentSize)
            if n >= startSeg, timelineOf(n) == w.timeline { maxSeg = max(maxSeg, n); anyOnPath = true }
        }
        var plan = Plan(targetTimeline: targetTLI, segments: [], histories: historyFiles, missing: [], endTimeNanos: nil)
        let lastNeeded: UInt64
        switch target {
        case .lsn(let l):
            guard l >= stop else { throw PostgresError.targetBeforeBackup(target: l.description, backupEnd: stop.description) }
            lastNeeded = l.segment(size: segmentSize)
        case .latest, .time:
            lastNeeded = max(anyOnPath ? maxSeg : startSeg, stopSeg)
        }
        var seg = startSeg
        var reached = false
        while seg <= lastNeeded {
            let name = WALFileName.segment(timeline: timelineOf(seg), number: seg, segmentSize: segmentSize)
            plan.segments.append(name)
            if let t = archived[name] {
                plan.endTimeNanos = t
                if case .time(let limit) = target, seg >= stopSeg, t > limit { reached = true; break }
            } else {
                plan.missing.append(name)
            }
            seg += 1
        }
        if case .time(let limit) = target, !reached, plan.missing.isEmpty {
            throw PostgresError.targetBeyondArchive(target: Self.describeTime(limit),
                                                    archiveEnd: plan.segments.last.map { "\($0) archived \(plan.endTimeNanos.map(Self.describeTime) ?? "?")" } ?? "empty")
        }
        return plan
    }

    static func describeTime(_ nanos: Int64) -> String {
        let secs = nanos / 1_000_000_000
        var t = time_t(secs)
        var parts = tm()
        gmtime_r(&t, &parts)
        func p(_ v: Int32, _ w: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, w - s.count)) + s }
        return "\(p(parts.tm_year + 1900, 4))-\(p(parts.tm_mon + 1, 2))-\(p(parts.tm_mday, 2))T\(p(parts.tm_hour, 2)):\(p(parts.tm_min, 2)):\(p(parts.tm_sec, 2))Z"
    }
}

#if canImport(Glibc)
import Glibc
#endif

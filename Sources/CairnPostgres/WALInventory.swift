import CairnEngine
import CairnIndex
import Foundation

/// Everything the archive holds for one WAL name, read once: file names with
/// archive times, the parsed timeline histories, and a planner over them.
public struct WALInventory: Sendable {
    public var rows: [WALCatalogRow]
    public var histories: [UInt32: TimelineHistory]
    public var segmentSize: UInt64

    /// Reads the catalogue and fetches every history file (they are small).
    public static func load(_ archive: WALArchive, segmentSize: UInt64? = nil) async throws -> WALInventory {
        let rows = try archive.entries()
        var histories: [UInt32: TimelineHistory] = [:]
        let tmp = NSTemporaryDirectory() + "cairn-history-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        defer { unlink(tmp) }
        for r in rows {
            guard let w = WALFileName(r.file), w.kind == .history, histories[w.timeline] == nil else { continue }
            guard try await archive.fetch(r.file, to: tmp), let data = FileManager.default.contents(atPath: tmp) else { continue }
            histories[w.timeline] = try TimelineHistory.parse(String(decoding: data, as: UTF8.self), timeline: w.timeline)
        }
        // The segment size: as given, else the size of any archived full segment, else PostgreSQL's default.
        let size = segmentSize ?? rows.first(where: { WALFileName($0.file)?.kind == .segment }).map { UInt64($0.size) } ?? (16 << 20)
        return WALInventory(rows: rows, histories: histories, segmentSize: size)
    }

    public var planner: WALPlanner {
        var archived: [String: Int64] = [:]
        for r in rows { archived[r.file] = min(archived[r.file] ?? .max, r.timeNanos) }
        return WALPlanner(segmentSize: segmentSize, archived: archived, histories: histories)
    }

    /// One timeline's archived segments: first, last, count and the numbers missing in between.
    public struct TimelineSummary: Sendable, Encodable {
        public var timeline: UInt32
        public var first: String
        public var last: String
        public var segments: Int
        public var missing: [String]
        public var partial: [String]
    }

    public var timelines: [TimelineSummary] {
        var byTLI: [UInt32: Set<UInt64>] = [:]
        var partial: [UInt32: [String]] = [:]
        for r in rows {
            guard let w = WALFileName(r.file) else { continue }
            switch w.kind {
            case .segment: byTLI[w.timeline, default: []].insert(w.segmentNumber(segmentSize: segmentSize))
            case .partial: partial[w.timeline, default: []].append(r.file)
            default: break
            }
        }
        return byTLI.keys.sorted().map { tli in
            let segs = byTLI[tli]!
            let lo = segs.min()!, hi = segs.max()!
            let missing = (lo...hi).filter { !segs.contains($0) }.map { WALFileName.segment(timeline: tli, number: $0, segmentSize: segmentSize) }
            return TimelineSummary(timeline: tli, first: WALFileName.segment(timeline: tli, number: lo, segmentSize: segmentSize),
                                   last: WALFileName.segment(timeline: tli, number: hi, segmentSize: segmentSize),
                                   segments: segs.count, missing: missing, partial: partial[tli] ?? [])
        }
    }

    /// The most recently archived segment (by archive time).
    public var newestSegment: WALCatalogRow? {
        rows.filter { WALFileName($0.file)?.kind == .segment }.max { ($0.timeNanos, $0.file) < ($1.timeNanos, $1.file) }
    }
}

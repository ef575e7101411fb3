/// A timeline history file (`0000000N.history`): for each ancestor timeline,
/// the position where the next one branched off. Lines are
/// `parentTLI<TAB>switchpoint<TAB>reason`; `#` lines and blank lines are comments.
public struct TimelineHistory: Sendable, Hashable {
    public struct Entry: Sendable, Hashable {
        /// The ancestor timeline.
        public var timeline: UInt32
        /// Where it ended (the first position of its child).
        public var end: LSN
    }

    /// The timeline whose history this is.
    public var timeline: UInt32
    /// Ancestors, oldest first.
    public var entries: [Entry]

    public init(timeline: UInt32, entries: [Entry]) { self.timeline = timeline; self.entries = entries }

    /// Parses the text of `0000000N.history` for timeline `timeline`.
    public static func parse(_ text: String, timeline: UInt32) throws -> TimelineHistory {
        var entries: [Entry] = []
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = raw.trimmingCharacters(in: " \t\r")
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " }).map(String.init)
            guard fields.count >= 2, let tli = UInt32(fields[0]), let end = LSN(fields[1]) else {
                throw PostgresError.badHistory(timeline: timeline, line: String(line.prefix(80)))
            }
            if let last = entries.last, tli <= last.timeline || end < last.end {
                throw PostgresError.badHistory(timeline: timeline, line: String(line.prefix(80)))
            }
            entries.append(Entry(timeline: tli, end: end))
        }
        guard entries.allSatisfy({ $0.timeline < timeline }) else {
            throw PostgresError.badHistory(timeline: timeline, line: "an ancestor timeline is not older than \(timeline)")
        }
        return TimelineHistory(timeline: timeline, entries: entries)
    }

    /// The timelines in force over the positions, oldest first: each with the
    /// position where it begins (0 for the first).
    public var path: [(timeline: UInt32, begin: LSN)] {
        var out: [(UInt32, LSN)] = []
        var begin = LSN(0)
        for e in entries { out.append((e.timeline, begin)); begin = e.end }
        out.append((timeline, begin))
        return out
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}

import CairnPostgres

/// A timeline history file (`0000000N.history`), archived by `wal push` and
/// read when a point-in-time restore plans which WAL it needs. The first four
/// bytes are the timeline the file is named for.
enum TimelineHistoryTarget {
    static let target = FuzzTarget(
        name: "timeline-history", maxLength: 8192, summary: "TimelineHistory.parse and its timeline path",
        run: { bytes in
            var input = FuzzInput(bytes)
            let timeline = input.u32()
            guard let history = try? TimelineHistory.parse(input.remaining().text, timeline: timeline) else { return }
            let path = history.path
            require(path.last?.timeline == timeline, "the path does not end on the file's timeline")
            for (a, b) in zip(path, path.dropFirst()) {
                require(a.timeline < b.timeline && a.begin <= b.begin, "the timeline path goes backwards")
            }
        })
}

/// Spans of packs a tree restore holds at once, shared by its plans in
/// flight: memory stays at most `count` spans (`RestorePlan.spanLimit` each)
/// however many plans run.
actor SpanSlots {
    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(_ count: Int) { free = max(1, count) }

    /// Waits for a free slot and takes it.
    func acquire() async {
        if free > 0 { free -= 1; return }
        await withCheckedContinuation { waiting.append($0) }
    }

    /// Gives a slot back (to the longest waiter, if any).
    func release() {
        if waiting.isEmpty { free += 1 } else { waiting.removeFirst().resume() }
    }
}

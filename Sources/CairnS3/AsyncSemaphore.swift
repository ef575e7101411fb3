/// Caps how many requests are in flight (`--connections`).
actor AsyncSemaphore {
    private var permits: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(_ permits: Int) { self.permits = max(1, permits) }

    func acquire() async {
        if permits > 0 { permits -= 1; return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty { permits += 1 } else { waiters.removeFirst().resume() }
    }

    /// Runs `body` holding one permit.
    nonisolated func with<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        await acquire()
        do { let v = try await body(); await release(); return v } catch { await release(); throw error }
    }
}

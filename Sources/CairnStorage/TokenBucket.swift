import Synchronization

/// Paces bytes to a rate: each transfer books its bytes on a virtual clock
/// and waits until the clock says the earlier ones have been paid for.
/// A burst of one second's worth goes through at once.
public final class TokenBucket: Sendable {
    /// Bytes per second.
    public let rate: Double
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant
    /// Seconds since `start` at which the bytes booked so far are paid for.
    private let paidUntil = Mutex<Double>(0)

    public init(bytesPerSecond: Double) {
        rate = max(1, bytesPerSecond)
        start = clock.now
    }

    private var elapsed: Double {
        let d = clock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// Books `bytes` and waits for their turn.
    public func take(_ bytes: Int) async throws {
        guard bytes > 0 else { return }
        let now = elapsed
        let wait = paidUntil.withLock { paid -> Double in
            let from = max(paid, now - 1)  // at most one second of unused allowance
            paid = from + Double(bytes) / rate
            return paid - now - 1
        }
        if wait > 0 { try await Task.sleep(nanoseconds: UInt64(wait * 1e9)) }
    }
}

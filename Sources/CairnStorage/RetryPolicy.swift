/// Capped exponential backoff with full jitter, retrying only
/// `StorageError.transient` (5xx, 429/SlowDown, timeouts, dropped connections).
public struct RetryPolicy: Sendable {
    /// Tries in all, the first included.
    public var attempts: Int
    /// The first retry waits up to this many seconds; each later one up to twice the previous cap.
    public var baseDelay: Double
    /// No wait is longer than this.
    public var maxDelay: Double
    /// Called before each retry with the attempt number, the wait and the error (for progress or logs).
    public var onRetry: (@Sendable (Int, Double, StorageError) -> Void)?

    public init(attempts: Int = 8, baseDelay: Double = 0.1, maxDelay: Double = 10,
                onRetry: (@Sendable (Int, Double, StorageError) -> Void)? = nil) {
        self.attempts = max(1, attempts); self.baseDelay = baseDelay; self.maxDelay = maxDelay; self.onRetry = onRetry
    }

    /// The wait before retry `n` (1-based): uniform in [0, min(maxDelay, baseDelay·2ⁿ⁻¹)].
    public func delay(beforeRetry n: Int) -> Double {
        let cap = min(maxDelay, baseDelay * Double(1 << min(n - 1, 30)))
        return Double.random(in: 0...max(0, cap))
    }

    /// Runs `body`, retrying transient failures; the last failure says how many tries were made.
    public func run<T>(_ body: () async throws -> T) async throws -> T {
        var attempt = 1
        while true {
            do { return try await body() } catch let e as StorageError {
                guard case .transient(let message) = e else { throw e }
                if attempt >= attempts { throw StorageError.transient("\(message) (gave up after \(attempts) tries)") }
                let wait = delay(beforeRetry: attempt)
                onRetry?(attempt, wait, e)
                try await Task.sleep(nanoseconds: UInt64(wait * 1e9))
                attempt += 1
            }
        }
    }
}

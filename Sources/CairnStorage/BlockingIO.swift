import Dispatch

/// Runs blocking system calls (write, fsync, rename) off Swift's cooperative
/// thread pool. That pool has one thread per core; a thread parked in
/// `fsync` for tens of milliseconds is a core the compress-and-seal stage
/// cannot use.
public enum BlockingIO {
    /// Runs `body` on a dispatch thread and resumes the caller with its result.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .utility).async {
                continuation.resume(with: Result { try body() })
            }
        }
    }
}

import Dispatch

/// Runs blocking system calls (write, fsync, rename) off Swift's cooperative
/// thread pool. That pool has one thread per core; a thread parked in
/// `fsync` for tens of milliseconds is a core the compress-and-seal stage
/// (or a restore's decoding) cannot use.
public enum BlockingIO {
    /// Runs `body` on a dispatch thread and resumes the caller with its
    /// result; throws what `body` throws (nothing, for a body that cannot).
    public static func run<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        let result: Result<T, E> = await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .utility).async {
                continuation.resume(returning: Result { () throws(E) -> T in try body() })
            }
        }
        return try result.get()
    }
}

import CairnRedis
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Runs the RDB validator on its own thread over a byte source and copies the
/// same bytes into a pipe whose read end the archiver consumes. Memory stays
/// at the pipe's and the validator's buffers whatever the RDB size.
///
/// The archiver commits only after `result()` returns a summary: a corrupt or
/// truncated RDB ends the pipe early, the archiver sees the end of its input,
/// and the pre-commit check throws the validator's error instead of saving a
/// snapshot.
public final class ValidatingPipe: Sendable {
    /// The descriptor the archiver reads; the caller closes it when done.
    public let readFD: Int32
    private let outcome = Outcome()
    private let finished = DispatchSemaphore(value: 0)

    /// Starts the thread. `makeSource` runs on it (so a network handshake does not block the caller).
    public init(_ makeSource: @escaping @Sendable () throws -> any RDBByteSource) throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            throw RDBError.source("cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        readFD = fds[0]
        let writeFD = fds[1]
        _ = fcntl(readFD, F_SETFD, FD_CLOEXEC)
        _ = fcntl(writeFD, F_SETFD, FD_CLOEXEC)
        let thread = Thread { [outcome, finished] in
            let r: Result<RDBSummary, any Error>
            do {
                r = .success(try Self.run(try makeSource(), copyTo: writeFD))
            } catch {
                r = .failure(error)
            }
            close(writeFD)
            outcome.value.withLock { $0 = r }
            finished.signal()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    private static func run<S: RDBByteSource>(_ source: S, copyTo fd: Int32) throws -> RDBSummary {
        try RDBValidator.validate(TeeSource(source, copyTo: fd))
    }

    /// Waits for the validator; throws its error when the RDB is not sound.
    public func result() async throws -> RDBSummary {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async { [finished] in
                finished.wait()
                finished.signal()
                c.resume()
            }
        }
        guard let r = outcome.value.withLock({ $0 }) else { throw RDBError.source("the RDB validator ended without a result") }
        return try r.get()
    }
}

/// The validator's verdict, shared between its thread and the waiter.
private final class Outcome: Sendable {
    let value = Mutex<Result<RDBSummary, any Error>?>(nil)
}

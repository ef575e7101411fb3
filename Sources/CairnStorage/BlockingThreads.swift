import Dispatch
import Synchronization

/// A fixed number of threads for blocking system calls that come many at a
/// time, such as a restore creating thousands of small files.
///
/// `BlockingIO.run` hands work to the global dispatch queue, whose threads
/// are capped near the core count: on a 2-core machine two file creations
/// waiting on the file system's journal leave nothing else running. Here
/// each thread is a serial dispatch queue of its own (serial queues always
/// get a thread), so `threads` calls block at once while the cores stay free
/// for decoding. Jobs wait in one shared list, taken in order.
public final class BlockingThreads: Sendable {
    private let queues: [DispatchQueue]
    private let state: Mutex<State>

    private struct State {
        var jobs: [@Sendable () -> Void] = []
        var head = 0
        /// Queues with no drain loop running.
        var idle: [Int]
    }

    /// - Parameter threads: calls run at once (at least one).
    public init(threads: Int, label: String = "cairn.blocking") {
        let n = max(1, threads)
        queues = (0..<n).map { DispatchQueue(label: "\(label).\($0)") }
        state = Mutex(State(idle: Array((0..<n).reversed())))
    }

    /// Runs `body` on one of the threads and resumes the caller with its
    /// result; throws what `body` throws.
    public func run<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        let result: Result<T, E> = await withCheckedContinuation { continuation in
            submit { continuation.resume(returning: Result { () throws(E) -> T in try body() }) }
        }
        return try result.get()
    }

    private func submit(_ job: @escaping @Sendable () -> Void) {
        let start: Int? = state.withLock { s in
            s.jobs.append(job)
            return s.idle.popLast()
        }
        if let start { queues[start].async { self.drain(start) } }
    }

    /// Runs queued jobs until none is left, then marks queue `index` idle
    /// (under the same lock as the last look, so no job is left behind).
    private func drain(_ index: Int) {
        while let job = state.withLock({ s -> (@Sendable () -> Void)? in
            guard s.head < s.jobs.count else {
                s.jobs.removeAll(keepingCapacity: true)
                s.head = 0
                s.idle.append(index)
                return nil
            }
            let job = s.jobs[s.head]
            s.jobs[s.head] = {}
            s.head += 1
            // Under steady load the list never empties: drop the taken part now and then.
            if s.head >= 1024, s.head * 2 >= s.jobs.count {
                s.jobs.removeFirst(s.head)
                s.head = 0
            }
            return job
        }) {
            job()
        }
    }
}

import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What an interrupted process (SIGINT, SIGTERM, SIGHUP) must undo before it
/// exits: the temporary files it is writing and the repository locks it
/// holds. Writers register them while they exist; the command-line front end
/// calls `interrupt(signal:)` from its signal thread, then exits.
///
/// Once interrupted, no new temporary file or lock may be created
/// (`checkNotInterrupted()` throws), so nothing appears after the cleanup.
public final class Interruption: Sendable {
    public static let shared = Interruption()

    /// One thing to undo.
    public enum Undo: Sendable {
        /// A file to unlink (a temporary file, a local lock object).
        case unlink(String)
        /// Work that needs the store (a lock object on S3).
        case run(@Sendable () async -> Void)
        /// A child process (a `cairn` that `cairn run` started): it gets the
        /// same signal and a few seconds to clean up after itself.
        case forwardSignal(pid_t)
    }

    private struct State {
        var next: UInt64 = 1
        var undo: [UInt64: (what: String, undo: Undo)] = [:]
        var signal: Int32? = nil
        var keptNote: String? = nil
    }
    private let state = Mutex(State())

    public init() {}

    /// Registers something to undo on interruption; `what` names it in the
    /// summary ("lock", "temporary file"). Returns a token for `unregister`.
    @discardableResult
    public func register(_ what: String, _ undo: Undo) -> UInt64 {
        state.withLock { s in
            let t = s.next
            s.next += 1
            s.undo[t] = (what, undo)
            return t
        }
    }

    public func unregister(_ token: UInt64) { _ = state.withLock { $0.undo.removeValue(forKey: token) } }

    /// The signal that interrupted this process, if any.
    public var signal: Int32? { state.withLock { $0.signal } }

    /// What the running command keeps when interrupted, for the final message
    /// ("data already stored is kept; the next backup reuses it").
    public var keptNote: String? {
        get { state.withLock { $0.keptNote } }
        set { state.withLock { $0.keptNote = newValue } }
    }

    /// Throws once the process is being interrupted: no new temporary file or lock.
    public func checkNotInterrupted() throws {
        if let sig = signal { throw StorageError.io("(interrupted)", "the command is stopping after signal \(sig)") }
    }

    /// Marks the process interrupted and undoes everything registered:
    /// files first, then the store work (locks on remote stores), the latter
    /// for at most `timeout` seconds. Returns what was undone, by kind
    /// ("lock": 1, "temporary file": 3); nil when already interrupted.
    public func interrupt(signal sig: Int32, timeout: Double = 10) -> [String: Int]? {
        let work = state.withLock { s -> [(String, Undo)]? in
            if s.signal != nil { return nil }
            s.signal = sig
            let all = s.undo.sorted { $0.key < $1.key }.map { ($0.value.what, $0.value.undo) }
            s.undo = [:]
            return all
        }
        guard let work else { return nil }
        var done = undo(work, signal: sig, timeout: timeout)
        // A writer that passed its check just before the signal registers its file now:
        // give such writers a moment, then undo what they registered.
        usleep(100_000)
        let late = state.withLock { s -> [(String, Undo)] in
            let all = s.undo.sorted { $0.key < $1.key }.map { ($0.value.what, $0.value.undo) }
            s.undo = [:]
            return all
        }
        for (what, n) in undo(late, signal: sig, timeout: timeout) { done[what, default: 0] += n }
        return done
    }

    private func undo(_ work: [(String, Undo)], signal sig: Int32, timeout: Double) -> [String: Int] {
        var done: [String: Int] = [:]
        var remote: [(String, @Sendable () async -> Void)] = []
        var children: [pid_t] = []
        // Children first (they remove their own locks), then temporary files, then locks.
        for (what, undo) in work {
            if case .forwardSignal(let pid) = undo, kill(pid, sig) == 0 {
                children.append(pid)
                done[what, default: 0] += 1
            }
        }
        waitUntilGone(children, timeout: timeout)
        for (what, undo) in work.sorted(by: { ($0.0 == "lock" ? 1 : 0) < ($1.0 == "lock" ? 1 : 0) }) {
            switch undo {
            case .unlink(let path):
                if unlink(path) == 0 { done[what, default: 0] += 1 }
            case .run(let body):
                remote.append((what, body))
            case .forwardSignal:
                break
            }
        }
        if !remote.isEmpty {
            let finished = Finished()
            let group = DispatchGroup()
            for (what, body) in remote {
                group.enter()
                Task.detached {
                    await body()
                    finished.names.withLock { $0.append(what) }
                    group.leave()
                }
            }
            _ = group.wait(timeout: .now() + timeout)
            for what in finished.names.withLock({ $0 }) { done[what, default: 0] += 1 }
        }
        return done
    }

    private func waitUntilGone(_ pids: [pid_t], timeout: Double) {
        var left = pids
        var waited = 0.0
        while !left.isEmpty && waited < timeout {
            left = left.filter { TemporaryFileName.startTime(of: $0) != nil }
            if left.isEmpty { return }
            usleep(20_000)
            waited += 0.02
        }
    }
}

private final class Finished: Sendable {
    let names = Mutex<[String]>([])
}

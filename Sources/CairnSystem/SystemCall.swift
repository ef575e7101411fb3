#if canImport(Glibc)
import Glibc
#endif

/// The one `EINTR` loop. A signal (SIGTERM to stop a backup, SIGCHLD from a child, SIGWINCH)
/// makes a blocking system call fail with `EINTR` before it did anything; every read, write,
/// send, recv, writev, flock, waitpid and sleep in Cairn is made again here rather than in a
/// loop of its own (`FileDescriptorIO` is built on it).
public enum SystemCall {
    /// Makes `call` (a system call returning -1 with `errno` set on failure) again for as long
    /// as a signal interrupts it: its result, or `Errno` for any other failure.
    @inlinable
    public static func retrying<Result: BinaryInteger>(_ call: () -> Result) throws -> Result {
        while true {
            let result = call()
            if result >= 0 { return result }
            let code = errno
            if code != EINTR { throw Errno(code) }
        }
    }

    /// An exclusive `flock` on `fd`: true when taken; false when another holder has it and
    /// `wait` is false. Throws `Errno` for any other failure.
    public static func lockExclusive(_ fd: Int32, wait: Bool) throws -> Bool {
        do {
            _ = try retrying { flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) }
            return true
        } catch let e as Errno where e.code == EWOULDBLOCK {
            return false
        }
    }

    /// Releases a `flock` taken with `lockExclusive` (interrupted releases made again; a failure
    /// is ignored: closing the descriptor releases it as well).
    public static func unlock(_ fd: Int32) {
        _ = try? retrying { flock(fd, LOCK_UN) }
    }

    /// `waitpid(pid, WNOHANG)`: the exit status when the child has ended, nil while it runs.
    /// Throws `Errno` when `pid` is no child of this process.
    public static func exitStatusIfEnded(_ pid: pid_t) throws -> Int32? {
        var status: Int32 = 0
        let r = try retrying { waitpid(pid, &status, WNOHANG) }
        return r == pid ? status : nil
    }

    /// Sleeps `nanoseconds`, however many signals arrive meanwhile (each interrupted
    /// `nanosleep` continues with the time that was left).
    public static func sleep(nanoseconds: Int64) {
        guard nanoseconds > 0 else { return }
        var ts = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000)), left = timespec()
        while nanosleep(&ts, &left) != 0 && errno == EINTR { ts = left }
    }
}

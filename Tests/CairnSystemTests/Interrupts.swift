import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// SIGALRM every 500 µs, caught by a handler installed without `SA_RESTART`: every blocking
/// system call made meanwhile fails with `EINTR` each time it fires.
enum Interrupts {
    /// Runs `body` with the interrupts on; how many fired.
    @discardableResult
    static func during(_ body: () throws -> Void) rethrows -> Int {
        fired.store(0)
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in Interrupts.fired.increment() }
        action.sa_flags = 0
        sigemptyset(&action.sa_mask)
        var old = sigaction()
        XCTAssertEqual(sigaction(SIGALRM, &action, &old), 0)
        var tick = itimerval(it_interval: timeval(tv_sec: 0, tv_usec: 500), it_value: timeval(tv_sec: 0, tv_usec: 500))
        XCTAssertEqual(setitimer(__itimer_which_t(ITIMER_REAL.rawValue), &tick, nil), 0)
        defer {
            var off = itimerval()
            setitimer(__itimer_which_t(ITIMER_REAL.rawValue), &off, nil)
            sigaction(SIGALRM, &old, nil)
        }
        try body()
        return fired.load()
    }

    /// A counter a signal handler may touch (a plain word: no locks, no allocation).
    final class Counter: @unchecked Sendable {
        private let word = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        init() { word.initialize(to: 0) }
        func store(_ v: Int) { word.pointee = v }
        func load() -> Int { word.pointee }
        func increment() { word.pointee &+= 1 }
    }
    static let fired = Counter()
}

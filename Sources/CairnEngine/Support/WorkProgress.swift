import CairnRepository
import Synchronization

/// Counters a long operation updates and the CLI reads to draw its progress
/// line. Safe to read from any thread.
public final class WorkProgress: Sendable {
    public struct Counters: Sendable {
        public var bytesDone: UInt64 = 0
        /// Known total, when the input size is known in advance.
        public var bytesTotal: UInt64? = nil
        public var filesDone: UInt64 = 0
        /// Files the work will cover, once known (a backup's quick scan).
        public var filesTotal: UInt64? = nil
        public var newBytes: UInt64 = 0
        public var currentPath: String = ""

        public init() {}
    }

    private let state = Mutex(Counters())
    public let started = Clock.monotonic()

    public init() {}

    public var counters: Counters { state.withLock { $0 } }

    public func update(_ body: (inout Counters) -> Void) { state.withLock { body(&$0) } }
}

import Synchronization

/// Where the engine's warnings go (one line each, for a person: a damaged key file skipped, a
/// cache rebuilt, a delete deferred). The engine never prints: the CLI implements this on standard
/// error, a test collects the lines, a library user chooses.
public protocol WarningReporter: Sendable {
    func warn(_ message: String)
}

/// Drops every warning: for callers that want none (the default of `Repository.open`).
public struct IgnoredWarnings: WarningReporter {
    public init() {}
    public func warn(_ message: String) {}
}

/// Keeps every warning in order, for tests and for callers that show them later.
public final class CollectedWarnings: WarningReporter {
    private let lines = Mutex<[String]>([])
    public init() {}
    public func warn(_ message: String) { lines.withLock { $0.append(message) } }
    /// The warnings so far, oldest first.
    public var messages: [String] { lines.withLock { $0 } }
}

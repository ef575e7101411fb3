import Foundation

/// Times the phases of a drill (fetch, restore, start, checks); a phase that
/// throws is still timed and its error names the phase.
public final class PhaseTimer {
    public private(set) var phases: [OpsRecord.Phase] = []
    public init() {}

    public func run<T>(_ name: String, _ body: () async throws -> T) async throws -> T {
        let start = Date()
        defer { phases.append(.init(name, Date().timeIntervalSince(start))) }
        do { return try await body() } catch { throw PhaseError(phase: name, reason: "\(error)") }
    }

    public func run<T>(_ name: String, _ body: () throws -> T) throws -> T {
        let start = Date()
        defer { phases.append(.init(name, Date().timeIntervalSince(start))) }
        do { return try body() } catch { throw PhaseError(phase: name, reason: "\(error)") }
    }
}

/// A drill phase that failed.
public struct PhaseError: Error, CustomStringConvertible {
    public let phase: String
    public let reason: String
    public var description: String { "\(phase): \(reason)" }
}

import Synchronization

/// Wraps a store and fails chosen operations: for tests of error paths
/// (disk full after N writes, transient read errors, a crash mid-backup).
public final class FaultInjectingStore: ObjectStore {
    public enum Operation: Sendable { case put, get, list, delete }

    private let base: any ObjectStore
    private struct State {
        var remainingPuts: Int? = nil; var failGets: Int = 0; var putCount = 0
        var remainingMutations: Int? = nil; var deleteCount = 0
    }
    private let state = Mutex(State())
    private let putError: StorageError

    public var location: String { base.location }
    public var listsEveryCompletedPut: Bool { base.listsEveryCompletedPut }
    public var objectLock: (any ObjectLockControl)? { base.objectLock }

    /// - Parameters:
    ///   - allowPuts: how many puts succeed before every later put fails with `putError` (nil: no limit).
    ///   - failGets: how many gets fail with a transient error before gets succeed again.
    ///   - allowMutations: how many puts and deletes together succeed before every later one fails
    ///     (a process killed at that point: nothing after it reaches the store).
    public init(_ base: any ObjectStore, allowPuts: Int? = nil, failGets: Int = 0,
                putError: StorageError = .diskFull("injected"), allowMutations: Int? = nil) {
        self.base = base
        self.putError = putError
        state.withLock { $0.remainingPuts = allowPuts; $0.failGets = failGets; $0.remainingMutations = allowMutations }
    }

    public var putCount: Int { state.withLock { $0.putCount } }
    public var deleteCount: Int { state.withLock { $0.deleteCount } }

    /// Takes one mutation from the budget; false when it is used up.
    private func mutationAllowed() -> Bool {
        state.withLock { s in
            if let r = s.remainingMutations { if r <= 0 { return false }; s.remainingMutations = r - 1 }
            return true
        }
    }

    public func put(_ key: ObjectKey, _ bytes: [UInt8]) async throws {
        try admitPut(key)
        try await base.put(key, bytes)
    }

    public func put(_ key: ObjectKey, _ bytes: [UInt8], coldEligible: Bool) async throws {
        try admitPut(key)
        try await base.put(key, bytes, coldEligible: coldEligible)
    }

    public func putPack(_ key: ObjectKey, _ bytes: [UInt8], coldEligible: Bool) async throws {
        try admitPut(key)
        try await base.putPack(key, bytes, coldEligible: coldEligible)
    }

    /// Applies the injected faults to one put.
    private func admitPut(_ key: ObjectKey) throws {
        guard mutationAllowed() else { throw StorageError.io(key.path, "injected crash: no writes after this point") }
        let allowed = state.withLock { s -> Bool in
            if let r = s.remainingPuts { if r <= 0 { return false }; s.remainingPuts = r - 1 }
            s.putCount += 1
            return true
        }
        guard allowed else { throw putError }
    }

    private func maybeFailGet(_ key: ObjectKey) throws {
        let fail = state.withLock { s -> Bool in
            if s.failGets > 0 { s.failGets -= 1; return true }
            return false
        }
        if fail { throw StorageError.transient("injected read failure on \(key.path)") }
    }

    public func get(_ key: ObjectKey) async throws -> [UInt8] { try maybeFailGet(key); return try await base.get(key) }
    public func get(_ key: ObjectKey, offset: UInt64, length: Int) async throws -> [UInt8] {
        try maybeFailGet(key); return try await base.get(key, offset: offset, length: length)
    }
    public func size(_ key: ObjectKey) async throws -> UInt64? { try await base.size(key) }
    public func list(_ namespace: ObjectNamespace) async throws -> [ObjectKey] { try await base.list(namespace) }
    public func delete(_ key: ObjectKey) async throws {
        guard mutationAllowed() else { throw StorageError.io(key.path, "injected crash: no deletes after this point") }
        try await base.delete(key)
        state.withLock { $0.deleteCount += 1 }
    }
}

import CairnCrypto
import CairnFormat
import CairnStorage
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// How often locks are refreshed and when they count as stale
/// (format-spec/v1.md §19). Tests shorten these.
public struct LockTiming: Sendable {
    /// A holder rewrites its lock this often.
    public var refreshInterval: Double = 300
    /// Another process may remove a lock not refreshed for this long.
    public var staleAfter: Double = 1800
    /// A holder whose last successful refresh is older than this (by its own
    /// monotonic clock) stops before committing anything.
    public var validFor: Double = 1500
    /// Pause between writing the own lock and listing again, for stores
    /// whose listings may lag (none for local disks and memory).
    public var checkDelay: Double = 0.2
    /// How long both the old and the new lock object exist during a refresh.
    public var refreshOverlap: Double = 1
    /// First pause between attempts while waiting for a conflicting lock;
    /// each further pause is 1.5 times longer, up to `maxRetryInterval`.
    public var retryInterval: Double = 0.25
    public var maxRetryInterval: Double = 5
    public init() {}
}

/// One lock object as found in the store.
public struct LockInfo: Sendable {
    public let name: String
    /// Nil when the object could not be opened or decoded.
    public let record: LockRecord?
    public let problem: String?

    /// An unreadable lock counts as exclusive.
    public var exclusive: Bool { record?.exclusive ?? true }

    func conflicts(withExclusive exclusive: Bool) -> Bool { exclusive || self.exclusive }

    /// "prune (exclusive) of PID 42 on host db1 as root, started 3m ago, refreshed 20s ago".
    public func describe(now: Int64) -> String {
        guard let r = record else { return "an unreadable lock \(name.prefix(12)) (\(problem ?? "?"))" }
        let op = r.operation.isEmpty ? "" : "\(r.operation) "
        let who = r.user.isEmpty ? "" : " as \(r.user)"
        return "\(op)(\(r.exclusive ? "exclusive" : "shared")) of PID \(r.pid) on host \(r.host)\(who), started \(ago(now - r.startNanos)), refreshed \(ago(now - r.refreshNanos))"
    }
}

/// "4s ago", "3m12s ago", "2h05m ago", "in the future".
func ago(_ nanos: Int64) -> String {
    if nanos < -1_000_000_000 { return "in the future (clock skew?)" }
    let s = max(0, nanos / 1_000_000_000)
    if s < 60 { return "\(s)s ago" }
    func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
    if s < 3600 { return "\(s / 60)m\(two(s % 60))s ago" }
    if s < 86_400 * 2 { return "\(s / 3600)h\(two(s / 60 % 60))m ago" }
    return "\(s / 86_400) days ago"
}

/// A conflicting lock is held and did not go away in time.
public struct RepositoryLockedError: Error, CustomStringConvertible, Sendable {
    public let holder: String
    public let wanted: String
    public var description: String {
        "repository is locked by \(holder); cannot take the \(wanted) lock. Retry later or pass --wait-lock DURATION; if that process is gone, run 'cairn unlock'"
    }
}

/// A held lock can no longer be trusted: the operation must stop before committing.
public struct LockLostError: Error, CustomStringConvertible, Sendable {
    public let reason: String
    public var description: String { "lost the repository lock (\(reason)): stopped before committing anything; run the command again" }
}

/// Lists, takes and removes the locks in a repository's `locks/` namespace.
public final class LockManager: Sendable {
    let repo: Repository
    public let timing: LockTiming
    let host: String
    let pid: UInt32
    let notice: @Sendable (String) -> Void

    /// - Parameters:
    ///   - notice: told about stale locks it removes (the CLI prints these).
    ///   - host, pid: who this process is; tests pretend to be others.
    public init(repo: Repository, timing: LockTiming = LockTiming(), host: String? = nil, pid: UInt32? = nil,
                notice: @escaping @Sendable (String) -> Void = { _ in }) {
        self.repo = repo; self.timing = timing
        self.host = host ?? Host.name
        self.pid = pid ?? UInt32(getpid())
        self.notice = notice
    }

    /// Every lock in the store but those named in `skipping` (this process's
    /// own, which a conflict check need not read back).
    public func list(skipping: Set<String> = []) async throws -> [LockInfo] {
        var out: [LockInfo] = []
        for key in try await repo.store.list(.locks) where !skipping.contains(key.name) {
            let bytes: [UInt8]
            do { bytes = try await MetadataObjects.read(repo.store, key) } catch StorageError.notFound { continue }   // released meanwhile
            catch CairnError.damagedObject(_, let why) { out.append(LockInfo(name: key.name, record: nil, problem: why)); continue }
            catch StorageError.permissionDenied {
                // Written by another user into a repository that is not group-accessible.
                out.append(LockInfo(name: key.name, record: nil, problem: "this user (\(Host.user)) may not read it: make the repository group-accessible (chmod -R g+rwX and chmod g+s on the repository directory, Docs/postgres.md)"))
                continue
            }
            do {
                out.append(LockInfo(name: key.name, record: try LockRecord.decode(try repo.keys.openObject(.lock, bytes)), problem: nil))
            } catch {
                out.append(LockInfo(name: key.name, record: nil, problem: CairnRepository.describe(error)))
            }
        }
        return out.sorted { ($0.record?.startNanos ?? 0, $0.name) < ($1.record?.startNanos ?? 0, $1.name) }
    }

    /// Why a lock is stale, or nil when it is live (unreadable locks never are).
    public func staleReason(_ lock: LockInfo, now: Int64 = Clock.nowNanos()) -> String? {
        guard let r = lock.record else { return nil }
        if r.host == host && r.pid != pid && !Self.processExists(r.pid) {
            return "process \(r.pid) on this host (\(host)) is gone"
        }
        let age = Double(now - r.refreshNanos) / 1e9
        if age > timing.staleAfter { return "not refreshed for \(ago(now - r.refreshNanos).dropLast(4)) (stale after \(Int(timing.staleAfter / 60)) min)" }
        return nil
    }

    static func processExists(_ pid: UInt32) -> Bool {
        guard pid > 0, pid <= UInt32(Int32.max) else { return false }
        guard kill(pid_t(pid), 0) == 0 || errno != ESRCH else { return false }
        // A zombie (killed, not yet reaped) answers kill(pid, 0) but is gone.
        if let f = fopen("/proc/\(pid)/stat", "r") {
            defer { fclose(f) }
            var buf = [CChar](repeating: 0, count: 512)
            if fgets(&buf, 512, f) != nil {
                let line = String(decoding: buf.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if let close = line.lastIndex(of: ")") {
                    let state = line[line.index(after: close)...].trimmingCharacters(in: .whitespaces).first
                    if state == "Z" || state == "X" { return false }
                }
            }
        }
        return true
    }

    /// Removes the stale locks; returns them.
    @discardableResult
    public func removeStale() async throws -> [LockInfo] {
        let now = Clock.nowNanos()
        var removed: [LockInfo] = []
        for l in try await list() {
            if let reason = staleReason(l, now: now) {
                try await repo.store.delete(ObjectKey(.locks, l.name))
                notice("removed stale lock \(l.name.prefix(12)) held by \(l.describe(now: now)): \(reason)")
                removed.append(l)
            }
        }
        return removed
    }

    /// Removes every lock, live or not (`cairn unlock --remove-all`).
    public func removeAll() async throws -> Int {
        let all = try await repo.store.list(.locks)
        for k in all { try await repo.store.delete(k) }
        return all.count
    }

    /// Writes a sealed lock object under a fresh random name. It is registered
    /// with `Interruption` before it exists, so that an interrupted process
    /// removes it even when the signal comes before the caller holds the lock;
    /// the caller owns the returned token.
    func write(_ record: LockRecord) async throws -> (name: String, undo: UInt64) {
        let name = Hex.encode(try SecureRandom.bytes(32))
        let undo = Self.registerUndo(store: repo.store, name: name)
        do {
            try Interruption.shared.checkNotInterrupted()
            try await repo.store.put(ObjectKey(.locks, name), try repo.keys.sealObject(.lock, record.encoded()))
        } catch {
            Interruption.shared.unregister(undo)
            throw error
        }
        return (name, undo)
    }

    /// Tells `Interruption` to remove lock object `name` if the process is interrupted.
    static func registerUndo(store: any ObjectStore, name: String) -> UInt64 {
        let key = ObjectKey(.locks, name)
        if let path = store.localPath(key) { return Interruption.shared.register("lock", .unlink(path)) }
        return Interruption.shared.register("lock", .run { try? await store.delete(key) })
    }

    /// The first live lock (other than `own`) that conflicts; stale ones found on the way are removed.
    private func firstConflict(exclusive: Bool, own: Set<String>) async throws -> LockInfo? {
        let now = Clock.nowNanos()
        for l in try await list(skipping: own) {
            if let reason = staleReason(l, now: now) {
                // A stale lock never blocks, even one this user may not remove.
                do {
                    try await repo.store.delete(ObjectKey(.locks, l.name))
                    notice("removed stale lock \(l.name.prefix(12)) held by \(l.describe(now: now)): \(reason)")
                } catch {
                    notice("ignoring stale lock \(l.name.prefix(12)) held by \(l.describe(now: now)): \(reason); it could not be removed (\(CairnRepository.describe(error)))")
                }
                continue
            }
            if l.conflicts(withExclusive: exclusive) { return l }
        }
        return nil
    }

    /// Takes a lock: list, write, pause, list again (format-spec §19). Waits
    /// up to `wait` seconds for conflicting locks to go, then throws
    /// `RepositoryLockedError` naming the holder.
    /// `waiting` is told once, when the first attempt finds a conflicting lock and the wait begins.
    public func acquire(exclusive: Bool, operation: String, wait: Double = 0,
                        waiting: (@Sendable (LockInfo) -> Void)? = nil) async throws -> RepositoryLock {
        let deadline = Clock.monotonic() + max(0, wait)
        let start = Clock.nowNanos()
        var interval = timing.retryInterval
        var toldWaiting = false
        while true {
            try Interruption.shared.checkNotInterrupted()
            var blocker = try await firstConflict(exclusive: exclusive, own: [])
            if blocker == nil {
                let record = LockRecord(exclusive: exclusive, host: host, pid: pid, startNanos: start, refreshNanos: Clock.nowNanos(),
                                        user: Host.user, operation: operation)
                let (name, undo) = try await write(record)
                let written = Clock.monotonic()
                if !repo.store.listsEveryCompletedPut { try await Task.sleep(nanoseconds: UInt64(timing.checkDelay * 1e9)) }
                blocker = try await firstConflict(exclusive: exclusive, own: [name])
                if blocker == nil {
                    return RepositoryLock(manager: self, name: name, record: record, refreshedAt: written, undo: undo)
                }
                // Someone else got there too: step back so that at most one proceeds.
                try await repo.store.delete(ObjectKey(.locks, name))
                Interruption.shared.unregister(undo)
            }
            let now = Clock.monotonic()
            if now >= deadline {
                throw RepositoryLockedError(holder: blocker!.describe(now: Clock.nowNanos()), wanted: exclusive ? "exclusive" : "shared")
            }
            if !toldWaiting, let blocker {
                toldWaiting = true
                waiting?(blocker)
            }
            // Jitter, so that two processes that stepped back do not collide again.
            let pause = min(deadline - now, interval * Double.random(in: 0.5...1.5))
            interval = min(interval * 1.5, timing.maxRetryInterval)
            try await Task.sleep(nanoseconds: UInt64(pause * 1e9))
        }
    }
}

/// A lock this process holds: refreshed in the background until released.
public final class RepositoryLock: Sendable {
    let manager: LockManager
    private struct State {
        var name: String
        var record: LockRecord
        var refreshedAt: Double
        var released = false
        var lastError: String? = nil
    }
    private let state: Mutex<State>
    private let refresher = Mutex<Task<Void, Never>?>(nil)
    /// The interruption token of the current lock object (an interrupted process removes it).
    private let undoToken = Mutex<UInt64?>(nil)

    init(manager: LockManager, name: String, record: LockRecord, refreshedAt: Double, undo: UInt64) {
        self.manager = manager
        state = Mutex(State(name: name, record: record, refreshedAt: refreshedAt))
        undoToken.withLock { $0 = undo }
        let interval = manager.timing.refreshInterval
        let task = Task.detached { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(interval * 1e9))
                guard !Task.isCancelled, let self else { return }
                await self.refresh()
            }
        }
        refresher.withLock { $0 = task }
    }

    /// Makes `token` the interruption token of the current lock object (nil: none), dropping the previous one.
    private func replaceUndo(_ token: UInt64?) {
        if let old = undoToken.withLock({ t -> UInt64? in let o = t; t = token; return o }) { Interruption.shared.unregister(old) }
    }

    public var exclusive: Bool { state.withLock { $0.record.exclusive } }
    /// The name of the current lock object.
    public var name: String { state.withLock { $0.name } }

    /// `MetadataCompactor.run()` on this lock's repository, while the lock is valid.
    func compactMetadata() async {
        do {
            try await ensureValid()
            _ = try await MetadataCompactor(repo: manager.repo).run()
        } catch {
            manager.repo.warnings.warn("merging small metadata objects failed (\(describe(error))); what this command stored is kept, and a later command merges them (not before a day if the store refused a delete)")
        }
    }

    /// Writes a new lock object, then (after a pause) deletes the previous one.
    func refresh() async {
        var record = state.withLock { $0.record }
        record.refreshNanos = Clock.nowNanos()
        do {
            let (newName, newUndo) = try await manager.write(record)
            let old = state.withLock { s -> String? in
                if s.released { return nil }
                let o = s.name
                s.name = newName; s.record = record; s.refreshedAt = Clock.monotonic(); s.lastError = nil
                return o
            }
            guard let old else {   // released while writing
                try? await manager.repo.store.delete(ObjectKey(.locks, newName))
                Interruption.shared.unregister(newUndo)
                return
            }
            // Until the old object is deleted, an interruption removes both.
            let oldUndo = undoToken.withLock { t -> UInt64? in let o = t; t = newUndo; return o }
            defer { if let oldUndo { Interruption.shared.unregister(oldUndo) } }
            try? await Task.sleep(nanoseconds: UInt64(manager.timing.refreshOverlap * 1e9))
            try await manager.repo.store.delete(ObjectKey(.locks, old))
        } catch {
            state.withLock { $0.lastError = describe(error) }
        }
    }

    /// Throws `LockLostError` unless the lock object still exists and was
    /// refreshed recently enough that no other process can think it stale.
    /// Call right before committing (a snapshot, an index, a deletion).
    public func ensureValid() async throws {
        let (name, refreshedAt, released, lastError) = state.withLock { ($0.name, $0.refreshedAt, $0.released, $0.lastError) }
        guard !released else { throw LockLostError(reason: "already released") }
        let age = Clock.monotonic() - refreshedAt
        if age > manager.timing.validFor {
            throw LockLostError(reason: "not refreshed for \(Int(age)) s\(lastError.map { ": \($0)" } ?? "")")
        }
        guard try await manager.repo.store.size(ObjectKey(.locks, name)) != nil else {
            throw LockLostError(reason: "lock object \(name.prefix(12)) was removed, probably by 'cairn unlock' or a process that judged it stale")
        }
    }

    /// Stops refreshing and deletes the lock object.
    public func release() async {
        let task = refresher.withLock { t -> Task<Void, Never>? in let x = t; t = nil; return x }
        task?.cancel()
        _ = await task?.value
        let name = state.withLock { s -> String? in
            if s.released { return nil }
            s.released = true
            return s.name
        }
        if let name { try? await manager.repo.store.delete(ObjectKey(.locks, name)) }
        replaceUndo(nil)
    }

    /// Runs `body` while holding the lock, then releases it whatever happens.
    /// After `body` succeeded (its commit is done), and unless `compact` is
    /// false, the small metadata objects are merged as they accumulate
    /// (`MetadataCompactor`: bounded work, crash-safe); a merge that fails
    /// is only a warning, since what the command committed stands.
    public func holding<R>(compact: Bool = true, _ body: () async throws -> R) async throws -> R {
        do {
            let r = try await body()
            if compact { await compactMetadata() }
            await release()
            return r
        } catch {
            await release()
            throw error
        }
    }
}

import ArgumentParser
import CairnEngine
import CairnRepository
import CairnPlan
import CairnStorage
import Foundation
import Synchronization

/// `--wait-lock DURATION` for commands that lock the repository.
struct LockOptions: ParsableArguments {
    @Option(name: .customLong("wait-lock"), help: "Wait this long for a conflicting lock to go (e.g. 30s, 10m, 2h; default 0: fail at once).")
    var waitLock: String = "0"

    var seconds: Double { Self.parse(waitLock) ?? 0 }

    static func parse(_ s: String) -> Double? {
        if s == "0" || s == "0s" { return 0 }
        return PlanDuration.fractionalSeconds(s)
    }

    func validate() throws {
        guard Self.parse(waitLock) != nil else { throw ValidationError("--wait-lock \(waitLock.debugDescription) is not a duration like 30s, 10m or 2h") }
    }
}

extension RepositoryOptions {
    /// Opens the repository, takes its lock (shared or exclusive), installs
    /// the lock check before every index and snapshot write, and syncs the
    /// cache again now that no prune can run (or, exclusive, nothing else).
    ///
    /// `releaseReserve`: the command only deletes (forget, a prune with
    /// --max-repack 0). On a nearly full file system it may use the local
    /// repository's space reserve (`SpaceReserve`) for its lock and index;
    /// every other writer makes the reserve when it is missing and there is room.
    /// - Parameter syncing: false when the command refills the cache itself (`index rebuild`).
    func openLocked(exclusive: Bool, operation: String, wait: Double, releaseReserve: Bool = false,
                    syncing: Bool = true) async throws -> (Repository, RepositoryLock) {
        let base = try store()   // the same store `open()` uses (local or s3:, with the store options)
        let guarded = CommitGuardedStore(base)
        let repo = try await Repository.open(store: guarded, passphrase: try passphrase(), cacheBase: cacheBase(), keyCache: try keyCacheSetting(),
                                             keyHint: keyHintSetting, warnings: TerminalWarnings(), syncing: syncing)
        warnIfPassphraseFileExposed()
        (base as? LocalStore)?.removeStaleTemporaryFiles()
        // The synced cache knows the index objects' sizes: no stat of each (their number varies).
        // An unsynced one may know none of them: the reserve then stats them itself.
        let indexBytes = syncing ? try? repo.index.indexObjects().reduce(UInt64(0)) { $0 + UInt64(max(0, $1.size)) } : nil
        if let reserve = (base as? LocalStore).map({ SpaceReserve(store: $0, indexBytes: indexBytes) }) {
            if releaseReserve && reserve.diskIsNearlyFull {
                let freed = reserve.release()
                if freed > 0 {
                    Terminal.warn("the file system holding the repository is full (\(Terminal.bytes(reserve.freeBytes)) free): released its \(Terminal.bytes(freed)) reserve for this \(operation)'s lock and index; it is made again once space is freed")
                }
            } else {
                reserve.refresh()
            }
        }
        let lock = try await LockManager(repo: repo, notice: { Terminal.warn($0) })
            .acquire(exclusive: exclusive, operation: operation, wait: wait, waiting: { holder in
                Terminal.info("cairn: waiting up to \(describeWait(wait)) for the repository lock: \(holder.describe(now: Clock.nowNanos()))")
            })
        Interruption.shared.keptNote = exclusive
            ? "\(operation) commits in steps: what it finished is kept and running it again finishes the rest"
            : "data already stored is kept and the next run reuses it instead of storing it again; no snapshot was recorded"
        guarded.setGuard { try await lock.ensureValid() }
        if syncing { do { try await repo.sync() } catch { await lock.release(); throw error } }
        return (repo, lock)
    }
}

/// `--wait-lock` and `--no-lock` for commands that only read (restore, ls,
/// scrub, pg restore, …). They take the shared lock, as restic's restore
/// does, so no prune deletes or repacks what they read meanwhile; by default
/// they wait for a running prune to finish instead of failing.
struct ReadLockOptions: ParsableArguments {
    @Option(name: .customLong("wait-lock"), help: "Wait this long for an exclusive lock (a prune, a repair) to go before reading (default 1h; 0: fail at once).")
    var waitLock: String = "1h"

    @Flag(name: .customLong("no-lock"), help: "Read without the shared lock (a read-only copy of a repository); a prune running meanwhile can then make this command fail.")
    var noLock = false

    var seconds: Double { LockOptions.parse(waitLock) ?? 0 }

    func validate() throws {
        guard LockOptions.parse(waitLock) != nil else { throw ValidationError("--wait-lock \(waitLock.debugDescription) is not a duration like 30s, 10m or 2h") }
    }
}

/// How long a lock wait may last, for the "waiting" message.
func describeWait(_ seconds: Double) -> String {
    if seconds >= 3600 && seconds.truncatingRemainder(dividingBy: 3600) == 0 { return "\(Int(seconds / 3600))h" }
    if seconds >= 60 && seconds.truncatingRemainder(dividingBy: 60) == 0 { return "\(Int(seconds / 60))m" }
    return "\(Int(seconds))s"
}

extension RepositoryOptions {
    /// After a command that frees space: makes the space reserve again (a
    /// local repository), or says why it could not.
    func restoreSpaceReserve() {
        guard let local = try? store() as? LocalStore else { return }
        let reserve = SpaceReserve(store: local)
        if !reserve.refresh() && reserve.currentBytes == 0 {
            Terminal.warn("the repository's space reserve could not be made again (\(Terminal.bytes(reserve.freeBytes)) free, \(Terminal.bytes(reserve.wantedBytes)) wanted): free more space, e.g. 'cairn forget … --prune --max-repack 0' (Docs/retention.md)")
        }
    }
}

/// Locks a command holds until it ends (the shared lock of a reading
/// command): `CairnCommand.main` releases them when the command returns or fails.
enum CommandLocks {
    private static let held = Mutex<[RepositoryLock]>([])

    static func hold(_ lock: RepositoryLock) { held.withLock { $0.append(lock) } }

    static func releaseAll() async {
        for lock in held.withLock({ l -> [RepositoryLock] in let all = l; l = []; return all }) { await lock.release() }
    }
}

extension RepositoryOptions {
    /// Opens the repository for a command that only reads it and takes the
    /// shared lock (unless `--no-lock`), waiting for an exclusive holder as
    /// `--wait-lock` says. A user who may not write the lock (a read-only
    /// repository, or read-only group access) reads without one, with a warning.
    /// The lock is held until the command ends (`CommandLocks`).
    @discardableResult
    func openForReading(operation: String, lockOptions: ReadLockOptions) async throws -> Repository {
        let repo = try await open()
        if lockOptions.noLock { return repo }
        let wait = lockOptions.seconds
        let lock: RepositoryLock
        do {
            lock = try await LockManager(repo: repo, notice: { Terminal.warn($0) })
                .acquire(exclusive: false, operation: operation, wait: wait, waiting: { holder in
                    Terminal.info("cairn: waiting up to \(describeWait(wait)) for the repository lock: \(holder.describe(now: Clock.nowNanos())) (--wait-lock changes this)")
                })
        } catch StorageError.permissionDenied(let path) {
            Terminal.warn("cannot write a lock in this repository (\(path): permission denied): reading without one; a prune running meanwhile could make this \(operation) fail")
            return repo
        }
        CommandLocks.hold(lock)
        Interruption.shared.keptNote = "nothing in the repository was changed"
        // What a prune finished before the lock was ours.
        try await repo.sync()
        return repo
    }
}

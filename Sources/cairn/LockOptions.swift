import ArgumentParser
import CairnEngine
import CairnStorage
import Foundation

/// `--wait-lock DURATION` for commands that lock the repository.
struct LockOptions: ParsableArguments {
    @Option(name: .customLong("wait-lock"), help: "Wait this long for a conflicting lock to go (e.g. 30s, 10m, 2h; default 0: fail at once).")
    var waitLock: String = "0"

    var seconds: Double { Self.parse(waitLock) ?? 0 }

    static func parse(_ s: String) -> Double? {
        if s == "0" || s == "0s" { return 0 }
        return DurationArgument.seconds(s)
    }

    func validate() throws {
        guard Self.parse(waitLock) != nil else { throw ValidationError("--wait-lock \(waitLock.debugDescription) is not a duration like 30s, 10m or 2h") }
    }
}

extension RepositoryOptions {
    /// Opens the repository, takes its lock (shared or exclusive), installs
    /// the lock check before every index and snapshot write, and syncs the
    /// cache again now that no prune can run (or, exclusive, nothing else).
    func openLocked(exclusive: Bool, operation: String, wait: Double) async throws -> (Repository, RepositoryLock) {
        let base = try store()   // the same store `open()` uses (local or s3:, with the store options)
        let guarded = CommitGuardedStore(base)
        let repo = try await Repository.open(store: guarded, passphrase: try passphrase(), cacheBase: cacheBase(), keyCache: try keyCacheSetting())
        (base as? LocalStore)?.removeStaleTemporaryFiles()
        let lock = try await LockManager(repo: repo, notice: { Terminal.warn($0) })
            .acquire(exclusive: exclusive, operation: operation, wait: wait)
        guarded.setGuard { try await lock.ensureValid() }
        do { try await repo.sync() } catch { await lock.release(); throw error }
        return (repo, lock)
    }
}

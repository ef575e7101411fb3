import ArgumentParser
import CairnEngine
import CairnRepository
import CairnStorage
import Foundation

/// `--as-of TIME` on `snapshots`, `restore` and `scrub`: the repository as it
/// was at TIME, read from the S3 bucket's object versions (Docs/immutability.md).
struct AsOfOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Read the repository as it was at this time (RFC 3339, e.g. 2026-12-01T00:00:00Z) from the S3 bucket's object versions: what was deleted or overwritten later is seen as it was. Read-only; takes no lock.", valueName: "time"))
    var asOf: String?
}

/// A repository opened as it was at a past moment, with a cache of its own
/// (the live repository's cache may hold what was written since, or what an
/// attacker wrote); `close()` removes that cache.
final class PastRepository {
    let repository: Repository
    let store: AsOfStore
    let cacheBase: String

    init(repository: Repository, store: AsOfStore, cacheBase: String) {
        self.repository = repository; self.store = store; self.cacheBase = cacheBase
    }

    var moment: String { AsOfStore.describe(millis: store.asOfMillis) }

    func close() { try? FileManager.default.removeItem(atPath: cacheBase) }
}

extension RepositoryOptions {
    /// The repository as it was at `time` (RFC 3339), read-only.
    func openPast(_ time: String) async throws -> PastRepository {
        guard let nanos = TargetTime.parse(time) else {
            throw CairnError.usage("--as-of must be an RFC 3339 time like 2026-12-01T00:00:00Z or 2026-12-01T02:00:00+02:00")
        }
        let live = try store()
        guard let control = live.objectLock else {
            throw CairnError.usage("--as-of reads object versions: \(live.location) is not an s3: repository")
        }
        let protection = try await RetryPolicy().run { try await control.protection() }
        if protection.versioning == "Off" {
            throw CairnError.invalidArgument("versioning was never enabled on the bucket of \(live.location): there are no older versions to read")
        }
        // S3 keeps version times to the millisecond (AWS: to the second).
        let past = AsOfStore(live, control: control, asOfMillis: nanos / 1_000_000)
        let cache = cacheBase() + "/as-of-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            let repo = try await Repository.open(store: past, passphrase: try passphrase(), cacheBase: cache)
            return PastRepository(repository: repo, store: past, cacheBase: cache)
        } catch CairnError.notARepository {
            try? FileManager.default.removeItem(atPath: cache)
            throw CairnError.invalidArgument("\(past.location) holds no repository: no config object had been written at that time")
        } catch {
            try? FileManager.default.removeItem(atPath: cache)
            throw error
        }
    }
}

extension Optional {
    /// `map` with an async transform.
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}

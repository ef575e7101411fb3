import CairnFormat
import CairnStorage

/// The link between a repository's config and its store's Object Lock: a
/// repository created with `--object-lock` is only ever written through a
/// store that locks what it writes (Docs/immutability.md).
public enum RepositoryObjectLock {
    /// The store-side policy of a config's lock.
    public static func policy(_ lock: RepositoryConfig.ObjectLock) -> ObjectLockPolicy {
        ObjectLockPolicy(mode: lock.mode == .compliance ? .compliance : .governance, days: Int(lock.days))
    }

    /// The config's lock for a policy.
    public static func configLock(_ policy: ObjectLockPolicy) -> RepositoryConfig.ObjectLock {
        RepositoryConfig.ObjectLock(mode: policy.mode == .compliance ? .compliance : .governance, days: UInt32(policy.days))
    }

    /// Makes every later write through `store` carry the config's lock; refuses a store that cannot.
    static func apply(_ config: RepositoryConfig, to store: any ObjectStore) throws {
        guard let lock = config.objectLock else { return }
        guard let control = store.objectLock else {
            throw CairnError.invalidArgument("the repository at \(store.location) requires S3 Object Lock (\(lock.mode == .compliance ? "compliance" : "governance"), \(lock.days) days) but this store cannot write locked objects: use its s3: URL")
        }
        control.setPolicy(policy(lock))
    }

    /// Checks that a bucket can hold a repository with `policy` (before `init` writes anything).
    public static func checkBucket(_ store: any ObjectStore, for policy: ObjectLockPolicy) async throws {
        guard let control = store.objectLock else {
            throw CairnError.usage("--object-lock needs an s3: repository in a bucket with Object Lock enabled (\(store.location) is not one)")
        }
        guard (1...ObjectLockPolicy.maximumDays).contains(policy.days) else {
            throw CairnError.usage("--lock-days \(policy.days): expected 1 to \(ObjectLockPolicy.maximumDays)")
        }
        let protection = try await RetryPolicy().run { try await control.protection() }
        guard protection.objectLockEnabled else {
            throw CairnError.invalidArgument("the bucket of \(store.location) does not have Object Lock enabled: create a new bucket with Object Lock (aws s3api create-bucket --object-lock-enabled-for-bucket, or let 'cairn init --object-lock' create it) or enable it on this one (aws s3api put-object-lock-configuration --object-lock-configuration ObjectLockEnabled=Enabled); Docs/immutability.md")
        }
        guard protection.versioningEnabled else {
            throw CairnError.invalidArgument("versioning is \(protection.versioning) on the bucket of \(store.location); Object Lock needs it Enabled (aws s3api put-bucket-versioning --versioning-configuration Status=Enabled)")
        }
    }
}

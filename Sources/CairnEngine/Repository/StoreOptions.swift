import CairnS3
import CairnStorage

/// How a repository URL becomes a store: connection count, bandwidth limits
/// and the S3 settings of the command line.
public struct StoreOptions: Sendable {
    /// Requests in flight to a remote store (`--connections`).
    public var connections = 8
    /// KiB/s; nil for no limit (`--limit-upload`, `--limit-download`).
    public var uploadLimitKiB: Int? = nil
    public var downloadLimitKiB: Int? = nil
    /// Bucket in the host name instead of the path (`--s3-virtual-host`).
    public var s3VirtualHost = false
    /// Storage class for packs (`--s3-storage-class`).
    public var s3StorageClass: String? = nil
    /// Retries of transient failures.
    public var retry = RetryPolicy()
    public init() {}

    /// The S3 store for `url`, behind retries and bandwidth limits.
    func s3Store(url: String) throws -> any ObjectStore {
        var settings = S3StoreFactory.Settings()
        settings.connections = connections
        settings.virtualHost = s3VirtualHost
        settings.dataStorageClass = s3StorageClass
        let s3: S3Store
        // A URL that does not parse is a bad option value (exit 2); missing credentials are not.
        do { _ = try S3Location(url: url, virtualHost: s3VirtualHost) } catch let e as S3Error { throw CairnError.usage(e.description) }
        do { s3 = try S3StoreFactory.store(url: url, settings: settings) } catch let e as S3Error {
            throw CairnError.invalidArgument(e.description)
        }
        return limited(RetryingStore(s3, policy: retry))
    }

    /// `store` behind the bandwidth limits, when any is set.
    func limited(_ store: any ObjectStore) -> any ObjectStore {
        guard uploadLimitKiB != nil || downloadLimitKiB != nil else { return store }
        return RateLimitedStore(store, uploadBytesPerSecond: uploadLimitKiB.map { Double($0) * 1024 },
                                downloadBytesPerSecond: downloadLimitKiB.map { Double($0) * 1024 })
    }

    /// Creates the bucket of an `s3:` URL when it does not exist (for `cairn init`), with Object Lock
    /// enabled when `objectLock`; nothing for other URLs.
    public func prepareNewRepository(url: String, objectLock: Bool = false) async throws {
        guard url.hasPrefix("s3:") else { return }
        do { _ = try S3Location(url: url, virtualHost: s3VirtualHost) } catch let e as S3Error { throw CairnError.usage(e.description) }
        var settings = S3StoreFactory.Settings()
        settings.virtualHost = s3VirtualHost
        do {
            let client = try S3StoreFactory.client(url: url, settings: settings)
            if try await retry.run({ try await Self.storageErrors { try await client.bucketExists() } }) { return }
            if objectLock {
                try await retry.run { try await Self.storageErrors { try await client.createBucketWithObjectLock() } }
            } else {
                try await retry.run { try await Self.storageErrors { try await client.createBucket() } }
            }
        } catch let e as S3Error {
            throw CairnError.invalidArgument(e.description)
        }
    }

    private static func storageErrors<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let e as S3Error where e.isTransient { throw StorageError.transient(e.description) }
    }
}

import CairnStorage

/// How a repository URL becomes a store: connection count, bandwidth limits
/// and the S3 settings of the command line. Each backend reads the fields it knows.
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

    /// `store` behind the bandwidth limits, when any is set.
    public func limited(_ store: any ObjectStore) -> any ObjectStore {
        guard uploadLimitKiB != nil || downloadLimitKiB != nil else { return store }
        return RateLimitedStore(store, uploadBytesPerSecond: uploadLimitKiB.map { Double($0) * 1024 },
                                downloadBytesPerSecond: downloadLimitKiB.map { Double($0) * 1024 })
    }
}

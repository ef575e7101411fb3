import CairnS3
import CairnStorage

extension StoreBackend {
    /// An S3-compatible bucket: `s3:http(s)://HOST[:PORT]/BUCKET[/PREFIX]`, behind retries and the
    /// bandwidth limits.
    public static let s3 = StoreBackend(scheme: "s3", syntax: "s3:http(s)://HOST/BUCKET[/PREFIX]", open: { url, options in
        var settings = S3StoreFactory.Settings()
        settings.connections = options.connections
        settings.virtualHost = options.s3VirtualHost
        settings.dataStorageClass = options.s3StorageClass
        try checkLocation(url, options)
        let s3: S3Store
        do { s3 = try S3StoreFactory.store(url: url, settings: settings) } catch let e as S3Error {
            throw StoreLocationError.unusable(e.description)
        }
        return options.limited(RetryingStore(s3, policy: options.retry))
    }, prepare: { url, options, objectLock in
        try checkLocation(url, options)
        var settings = S3StoreFactory.Settings()
        settings.virtualHost = options.s3VirtualHost
        let retry = options.retry
        do {
            let client = try S3StoreFactory.client(url: url, settings: settings)
            if try await retry.run({ try await storageErrors { try await client.bucketExists() } }) { return }
            if objectLock {
                try await retry.run { try await storageErrors { try await client.createBucketWithObjectLock() } }
            } else {
                try await retry.run { try await storageErrors { try await client.createBucket() } }
            }
        } catch let e as S3Error {
            throw StoreLocationError.unusable(e.description)
        }
    })

    /// A URL that does not parse is a bad option value (exit 2); missing credentials are not.
    private static func checkLocation(_ url: String, _ options: StoreOptions) throws {
        do { _ = try S3Location(url: url, virtualHost: options.s3VirtualHost) } catch let e as S3Error {
            throw StoreLocationError.badLocation(e.description)
        }
    }

    /// Transient S3 failures as the storage error the retry policy retries.
    private static func storageErrors<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let e as S3Error where e.isTransient { throw StorageError.transient(e.description) }
    }
}

import CairnFormat
import CairnRepository
import CairnStorage
import Foundation

/// A throwaway repository in memory (or on disk) with a cheap KDF, for the tests of the
/// repository layer and of everything built on it.
public struct TestRepository: Sendable {
    public let store: any ObjectStore
    public let cache: String
    public let repo: Repository
    public static let passphrase = Array("test passphrase".utf8)

    public static func make(store: any ObjectStore = MemoryStore(), profiles: [ChunkerProfile]? = nil, packSize: UInt32 = 1 << 20) async throws -> TestRepository {
        let cache = TestCacheDirectory.make()
        var options = Repository.CreateOptions()
        options.scrypt = ScryptParameters(logN: 10, r: 8, p: 1)
        options.packSize = packSize
        if let profiles { options.profiles = profiles }
        let repo = try await Repository.create(store: store, passphrase: passphrase, cacheBase: cache, options: options)
        return TestRepository(store: store, cache: cache, repo: repo)
    }

    /// Opens the same store again with a fresh (or the given) cache.
    public func reopen(cache: String? = nil) async throws -> Repository {
        try await Repository.open(store: store, passphrase: Self.passphrase,
                                  cacheBase: cache ?? TestCacheDirectory.make())
    }
}

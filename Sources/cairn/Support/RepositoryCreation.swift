import CairnEngine
import CairnRepository
import CairnStorage

/// A new repository that receives another one's snapshots (`copy` into an empty
/// location, `recover`): it shares the source's chunker seed and profiles, so
/// blobs are copied as stored, and takes the Object Lock asked for.
enum RepositoryCreation {
    static func create(url: String, store: any ObjectStore, passphrase: [UInt8], like source: Repository,
                       objectLock: ObjectLockPolicy?, shareKeys: Bool = false, options: RepositoryOptions) async throws -> Repository {
        var create = Repository.CreateOptions()
        create.packSize = source.config.packSize
        create.compressionLevel = source.config.compressionLevel
        create.chunkerSeed = source.chunkerSeed
        create.profiles = source.config.profiles
        create.objectLock = objectLock
        if shareKeys {
            create.keyring = source.keys
            create.chunkerSeed = source.config.chunkerSeed
        }
        try await options.prepareNewRepository(url: url, objectLock: objectLock != nil)
        // A local destination whose parent directories do not exist yet gets them, as with `cairn init`.
        if let local = ((store as? CommitGuardedStore)?.base ?? store) as? LocalStore {
            try InitCommand.makeParentDirectories(local.root)
        }
        return try await Repository.create(store: store, passphrase: passphrase, cacheBase: options.cacheBase(), options: create, warnings: TerminalWarnings())
    }
}

import CairnCompression
import CairnCrypto
import CairnFormat
import CairnIndex
import CairnStorage
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// An open repository: the store, its decrypted config, the master keys and
/// the local SQLite index, kept in step with the store by `sync()`.
public final class Repository: Sendable {
    public let store: any ObjectStore
    public let config: RepositoryConfig
    /// The master keys: the current one seals what is written; earlier ones (after `key rotate`) open older data.
    public let keys: Keyring
    public let index: RepositoryIndex
    public let cacheDirectory: String
    /// The key file that opened the repository.
    public let keyID: String
    public let codec: BlobCodec
    /// Where this repository's warnings go (`Repository.open`'s `warnings`).
    public let warnings: any WarningReporter
    /// Recently used delta bases: a dump's deltas share few bases, read each once. Small,
    /// because a larger cache bought no CPU and cost memory (measured in Docs/performance.md,
    /// "Later days with --delta auto").
    package let bases = BaseCache(capacityBytes: 8 << 20)
    /// Verified plaintexts of chunks a batch of `readDataChunks` held more than once, so later batches
    /// do not read, open and verify them again: the runs of zeros that fill a WAL segment closed early
    /// by archive_timeout are one chunk repeated through the whole segment, segment after segment.
    package let repeatedChunks = BaseCache(capacityBytes: 4 << 20)
    /// The one reload of the cache from the store after a lookup missed (`locate`).
    let cacheCheck = Mutex<Task<Void, Error>?>(nil)
    private let format: Mutex<UInt16>
    /// Store objects this process has warned about: a command that syncs twice says it once.
    let warned = Mutex<Set<ObjectKey>>([])
    /// Snapshot objects the last `sync` found unusable, by id, with why.
    let damagedSnapshots = Mutex<[String: String]>([:])

    /// The repository format version (the envelope version of `config`,
    /// format-spec README): 1, or 2 with snapshot catalogues and merged forget
    /// records (v2.md). Writers never write an object of a newer format than this.
    public var formatVersion: UInt16 { format.withLock { $0 } }

    /// After `RepositoryMigration` has written the new config.
    package func setFormatVersion(_ v: UInt16) { format.withLock { $0 = v } }

    init(store: any ObjectStore, config: RepositoryConfig, keys: Keyring, index: RepositoryIndex, cacheDirectory: String, keyID: String,
         formatVersion: UInt16, warnings: any WarningReporter) {
        self.store = store; self.config = config; self.keys = keys; self.index = index; self.warnings = warnings
        self.cacheDirectory = cacheDirectory; self.keyID = keyID; self.format = Mutex(formatVersion)
        self.codec = BlobCodec(keys: keys, level: config.compressionLevel, limits: BlobLimits(config: config))
    }

    /// Options for a new repository.
    public struct CreateOptions: Sendable {
        public var packSize: UInt32 = 16 << 20
        public var compressionLevel: Int32 = RepositoryConfig.defaultCompressionLevel
        public var scrypt: ScryptParameters = .default
        public var profiles: [ChunkerProfile] = RepositoryConfig.defaultProfiles
        /// Another repository's chunker seed (`--copy-chunker-from`), with its profiles.
        public var chunkerSeed: UInt64? = nil
        /// The repository format (`init --repository-version`): the newest by default; 1 for a
        /// repository that Cairn versions reading only format 1 must open too.
        public var formatVersion: UInt16 = ObjectEnvelope.newestFormatVersion
        /// Another repository's master keys (`--copy-keys-from`): this one then opens that one's
        /// packs as they are, so `cairn copy` between the two copies whole packs.
        public var keyring: Keyring? = nil
        /// S3 Object Lock on every object (`--object-lock MODE --lock-days N`); the bucket must have it enabled.
        public var objectLock: ObjectLockPolicy? = nil
        public init() {}
    }

    /// Creates a repository in an empty store; refuses when one is there.
    /// - Parameter warnings: where warnings of this and every later operation on the repository go.
    public static func create(store: any ObjectStore, passphrase: [UInt8], cacheBase: String, options: CreateOptions = .init(),
                              warnings: any WarningReporter = IgnoredWarnings()) async throws -> Repository {
        if try await store.size(.config) != nil { throw CairnError.alreadyARepository(store.location) }
        if let lock = options.objectLock { try await RepositoryObjectLock.checkBucket(store, for: lock) }
        // Through a decorator too (copy and recover create their destination behind a CommitGuardedStore).
        if let local = (store as? LocalStore) ?? ((store as? CommitGuardedStore)?.base as? LocalStore) { try local.createLayout() }
        let keys = try options.keyring.map { Keyring(generations: $0.generations) } ?? Keyring.generate()
        let now = Clock.nowNanos()
        let config = RepositoryConfig(repositoryID: try SecureRandom.bytes(32), createdNanos: now, packSize: options.packSize,
                                      compressionLevel: options.compressionLevel, profiles: options.profiles,
                                      chunkerSeed: options.chunkerSeed, objectLock: options.objectLock.map(RepositoryObjectLock.configLock))
        try RepositoryObjectLock.apply(config, to: store)
        let keyFile = try keys.wrap(passphrase: passphrase, parameters: options.scrypt, host: Host.name, user: Host.user, nowNanos: now)
        let keyBytes = keyFile.encoded()
        let keyID = Hex.encode(SHA256.hash(keyBytes))
        try await store.put(ObjectKey(.keys, keyID), keyBytes)
        // The config goes last: until it exists, the store is not a repository.
        try await store.put(.config, try keys.sealObject(.config, config.encoded(), version: options.formatVersion))
        return try openIndex(store: store, config: config, keys: keys, cacheBase: cacheBase, keyID: keyID, formatVersion: options.formatVersion,
                             warnings: warnings)
    }

    /// Opens with a passphrase; tries the key files (`KeyUnlocker`).
    /// - Parameter keyCache: keep the unlocked key in the kernel user keyring (see `KeyCache`).
    /// - Parameter keyHint: a key file id or unique prefix to try first (`--key-hint`).
    /// - Parameter warnings: where warnings go (damaged key files skipped, a cache rebuilt, ...), from the
    ///   opening on and for every later operation on the repository; the engine itself never prints.
    /// - Parameter syncing: bring the cache in step with the store before returning (false: the
    ///   caller refills the cache itself, as `IndexRebuilder.rebuild` does; a cold cache would
    ///   otherwise be loaded whole only to be emptied again).
    public static func open(store: any ObjectStore, passphrase: [UInt8], cacheBase: String, keyCache: KeyCache? = nil, keyHint: String? = nil,
                            warnings: any WarningReporter = IgnoredWarnings(), syncing: Bool = true) async throws -> Repository {
        let (config, keys, keyID, version) = try await unlock(store: store, passphrase: passphrase, keyCache: keyCache, cacheBase: cacheBase, keyHint: keyHint,
                                                              warnings: warnings)
        // Temp files of writers killed more than an hour ago are garbage.
        (store as? LocalStore)?.removeStaleTemporaryFiles()
        do {
            let repo = try openIndex(store: store, config: config, keys: keys, cacheBase: cacheBase, keyID: keyID, formatVersion: version,
                                     warnings: warnings)
            LocalStore.removeStaleFiles(in: "\(repo.cacheDirectory)/staging")
            if syncing { try await repo.sync() }
            return repo
        } catch let error as SQLiteError where error.meansDamagedFile {
            // The cache is only a cache: a damaged one is thrown away and refilled from the store.
            warnings.warn("the local index at \(cacheBase)/\(config.repositoryIDHex) is damaged (\(error.message)); rebuilding it from the store")
            RepositoryIndex.destroy(path: "\(cacheBase)/\(config.repositoryIDHex)/index.sqlite")
            let repo = try openIndex(store: store, config: config, keys: keys, cacheBase: cacheBase, keyID: keyID, formatVersion: version,
                                     warnings: warnings)
            if syncing { try await repo.sync() }
            return repo
        }
    }

    /// Reads and decrypts the config with the first key the passphrase opens (`KeyUnlocker`).
    /// - Parameter cacheBase: where the hint of which key file opened the repository last is kept.
    static func unlock(store: any ObjectStore, passphrase: [UInt8], keyCache: KeyCache? = nil, cacheBase: String? = nil,
                       keyHint: String? = nil, warnings: any WarningReporter = IgnoredWarnings()) async throws -> (RepositoryConfig, Keyring, String, UInt16) {
        let configBytes: [UInt8]
        do { configBytes = try await MetadataObjects.read(store, .config) } catch StorageError.notFound {
            // A size query cannot say why nothing is there (S3 answers a HEAD without a body): a plain get
            // names a missing bucket or a refused request before this is called "not a repository".
            do { _ = try await store.get(.config) } catch StorageError.notFound { throw CairnError.notARepository(store.location) }
            throw CairnError.notARepository(store.location)
        }
        // Version check before any key work; a newer Cairn's config is not damage.
        let version: UInt16
        do { version = try ObjectEnvelope.openVersioned(configBytes, kind: .config).version } catch let e as FormatError {
            if case .unsupportedVersion = e { throw e }
            throw CairnError.damagedConfig(location: store.location, reason: "\(e.description) (\(configBytes.count) bytes)")
        }
        let listed = try await store.list(.keys).map(\.name).sorted()
        // Key replacement records (an unfinished 'key passwd') are not key files.
        let keyNames = listed.filter { !KeyReplacement.isRecordName($0) }
        if let keyCache {
            for name in keyNames {
                if let keys = keyCache.load(configObject: configBytes, keyName: name, passphrase: passphrase),
                   let plain = try? keys.openObject(.config, configBytes) {
                    let config = try RepositoryConfig.decode(plain)
                    try RepositoryObjectLock.apply(config, to: store)
                    try await PassphraseChange.settle(store: store, keys: keys, openedKey: name, keyNames: listed, warnings: warnings)
                    return (config, keys, name, version)
                }
            }
        }
        let unlocker = KeyUnlocker(store: store, passphrase: passphrase, configObject: configBytes, hints: cacheBase.map(KeyHints.init), explicitHint: keyHint,
                                   warnings: warnings)
        let u = try await unlocker.unlock(keyNames: keyNames)
        try RepositoryObjectLock.apply(u.config, to: store)
        try await PassphraseChange.settle(store: store, keys: u.keys, openedKey: u.keyName, keyNames: listed, warnings: warnings)
        keyCache?.store(u.keys, configObject: configBytes, keyName: u.keyName, passphrase: passphrase)
        return (u.config, u.keys, u.keyName, version)
    }

    private static func openIndex(store: any ObjectStore, config: RepositoryConfig, keys: Keyring, cacheBase: String, keyID: String,
                                  formatVersion: UInt16, warnings: any WarningReporter) throws -> Repository {
        let dir = "\(cacheBase)/\(config.repositoryIDHex)"
        try FileSystem.makeDirectories(dir)
        FileSystem.makePrivate(directory: dir, files: ["index.sqlite", "index.sqlite-wal", "index.sqlite-shm", "index.sqlite-journal"])
        let index: RepositoryIndex
        do {
            index = try RepositoryIndex(path: "\(dir)/index.sqlite")
        } catch let error as SQLiteError where error.meansDamagedFile {
            warnings.warn("the local index in \(dir) cannot be opened (\(error.message)); starting a new one from the store")
            RepositoryIndex.destroy(path: "\(dir)/index.sqlite")
            index = try RepositoryIndex(path: "\(dir)/index.sqlite")
        }
        try index.resetUnlessSchema(RepositoryIndex.schemaVersion)
        return Repository(store: store, config: config, keys: keys, index: index, cacheDirectory: dir, keyID: keyID, formatVersion: formatVersion,
                          warnings: warnings)
    }
}

import CairnCompression
import CairnCrypto
import CairnFormat
import CairnIndex
import CairnStorage
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A snapshot together with its id (the name of its object in the store).
public struct SnapshotRecord: Sendable {
    public let id: SnapshotID
    public let snapshot: Snapshot

    public init(id: SnapshotID, snapshot: Snapshot) { self.id = id; self.snapshot = snapshot }
}

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
    /// The one reload of the cache from the store after a lookup missed (`locate`).
    private let cacheCheck = Mutex<Task<Void, Error>?>(nil)
    private let format: Mutex<UInt16>

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
    public static func open(store: any ObjectStore, passphrase: [UInt8], cacheBase: String, keyCache: KeyCache? = nil, keyHint: String? = nil,
                            warnings: any WarningReporter = IgnoredWarnings()) async throws -> Repository {
        let (config, keys, keyID, version) = try await unlock(store: store, passphrase: passphrase, keyCache: keyCache, cacheBase: cacheBase, keyHint: keyHint,
                                                              warnings: warnings)
        // Temp files of writers killed more than an hour ago are garbage.
        (store as? LocalStore)?.removeStaleTemporaryFiles()
        do {
            let repo = try openIndex(store: store, config: config, keys: keys, cacheBase: cacheBase, keyID: keyID, formatVersion: version,
                                     warnings: warnings)
            LocalStore.removeStaleFiles(in: "\(repo.cacheDirectory)/staging")
            try await repo.sync()
            return repo
        } catch let error as SQLiteError {
            // The cache is only a cache: a damaged one is thrown away and refilled from the store.
            warnings.warn("the local index at \(cacheBase)/\(config.repositoryIDHex) is damaged (\(error.message)); rebuilding it from the store")
            RepositoryIndex.destroy(path: "\(cacheBase)/\(config.repositoryIDHex)/index.sqlite")
            let repo = try openIndex(store: store, config: config, keys: keys, cacheBase: cacheBase, keyID: keyID, formatVersion: version,
                                     warnings: warnings)
            try await repo.sync()
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
        } catch let error as SQLiteError {
            warnings.warn("the local index in \(dir) cannot be opened (\(error.message)); starting a new one from the store")
            RepositoryIndex.destroy(path: "\(dir)/index.sqlite")
            index = try RepositoryIndex(path: "\(dir)/index.sqlite")
        }
        if try index.meta("schema") != RepositoryIndex.schemaVersion {
            try index.reset()
            try index.setMeta("schema", RepositoryIndex.schemaVersion)
        }
        return Repository(store: store, config: config, keys: keys, index: index, cacheDirectory: dir, keyID: keyID, formatVersion: formatVersion,
                          warnings: warnings)
    }

    // MARK: keeping the cache in step with the store

    /// Loads index objects and snapshots the cache has not seen and forgets
    /// those gone from the store, object by object: the cost follows what
    /// changed, not the size of the repository. When index objects the cache
    /// had loaded are gone, every pack no remaining object names is
    /// forgotten before the new objects load: objects merged into another
    /// lose nothing (the merged one names their packs again), and after a
    /// prune elsewhere the cache keeps no location of a deleted pack.
    public func sync() async throws {
        if try index.repairInterruptedLoad() {
            warnings.warn("the local index at \(cacheDirectory) was being loaded by a process that stopped; reloading it from the store")
        }
        if let why = try index.inconsistency() {
            // The cache is only a cache: one that cannot match any store is refilled from this one.
            warnings.warn("the local index at \(cacheDirectory) disagrees with the store (\(why)); reloading it from the store")
            try index.dropBlobLocations()
        }
        let known = try index.indexObjectNames()
        let listed = try await store.list(.index)
        let gone = known.subtracting(listed.map(\.name))
        if !gone.isEmpty {
            // Merged into another object (format-spec §10), or rewritten by a prune that may have
            // deleted packs: packs no remaining object names are forgotten until one names them again.
            try index.forgetIndexObjects(Array(gone))
        }
        // Packs a stopped backup left unindexed may have been deleted by a prune as unused.
        for pack in try index.unindexedPackIDs() where try await store.size(ObjectKey(.data, pack.hex)) == nil {
            try index.dropPack(pack)
        }
        let fresh = listed.filter { !known.contains($0.name) }
        // Many entries at once (a cold or reset cache, or many new objects) go in sorted by id.
        var bulk: IndexBulkLoad? = nil
        if !fresh.isEmpty, try fresh.count >= Self.bulkLoadObjects || !index.hasBlobLocations() {
            bulk = try IndexBulkLoad(index: index, directory: cacheDirectory)
        }
        do {
            try await loadIndexObjects(fresh, bulk: bulk)
            try bulk?.finish()
        } catch {
            // What was loaded whole is kept; the rest loads at the next sync.
            try? bulk?.finish()
            throw error
        }
        // Forget records first: a snapshot they name is not a new one, whatever the store holds.
        let knownRecords = try index.forgetRecordNames()
        let listedRecords = try await store.list(.forgotten)
        try await fetchInOrder(listedRecords.filter { !knownRecords.contains($0.name) }) { key, fetched in
            do {
                switch fetched {
                case .gone: return
                case .unusable(let why): throw CairnError.other(why)
                case .bytes(let bytes):
                    guard MetadataObjects.matchesName(key, bytes) else { throw CairnError.other(MetadataObjects.nameMismatch) }
                    let entries = try ForgetRecords.decode(self, bytes)
                    try index.addForgetRecord(key.name, entries: entries, size: bytes.count)
                    // A snapshot this cache holds that a forget removed elsewhere (and someone put back).
                    try index.removeSnapshots(ids: entries.map(\.id.hex))
                }
            } catch {
                warnOnce(key, "forget record \(key.name.prefix(12)) is damaged (\(describe(error))): skipped; run 'cairn scrub'")
            }
        }
        // Records merged into another (format-spec v2.md): their content stays with the merged one.
        let goneRecords = knownRecords.subtracting(listedRecords.map(\.name))
        if !goneRecords.isEmpty { try index.removeForgetRecordNames(Array(goneRecords)) }
        try await syncSnapshotObjects()
    }

    /// New index objects from which `sync` goes through an `IndexBulkLoad` even when the cache holds blob locations.
    static let bulkLoadObjects = 16

    /// Reads and loads index objects `objects` (a damaged one is skipped with a warning), into `bulk` when given.
    private func loadIndexObjects(_ objects: [ObjectKey], bulk: IndexBulkLoad?) async throws {
        try await fetchInOrder(objects) { key, fetched in
            let bytes: [UInt8]
            switch fetched {
            case .gone: return
            case .unusable(let why):
                warnOnce(key, "index object \(key.name.prefix(12)) is damaged (\(why)): skipped; run 'cairn scrub' and 'cairn index rebuild --read-packs'")
                return
            case .bytes(let b): bytes = b
            }
            let delta: IndexDelta
            do { delta = try IndexDelta.decode(try keys.openObject(.index, bytes)) } catch {
                // One damaged index object must not make the repository unusable: what it named
                // is missing until 'cairn index rebuild' reads the packs' own headers.
                warnOnce(key, "index object \(key.name.prefix(12)) is damaged (\(describe(error))): skipped; run 'cairn scrub' and 'cairn index rebuild --read-packs'")
                return
            }
            // Sealed under the repository's key, so its content is authentic: a renamed index
            // object still says truly where blobs are (every blob is verified when read).
            if !MetadataObjects.matchesName(key, bytes) {
                warnOnce(key, "index object \(key.name.prefix(12)) \(MetadataObjects.nameMismatch); its content is still used; run 'cairn scrub'")
            }
            if let bulk {
                try bulk.add(delta.packs, indexed: true, object: (key.name, bytes.count))
            } else {
                try index.addIndexObject(key.name, delta, size: bytes.count)
            }
        }
    }

    /// Brings the cached snapshots in step with `snapshots/`, object by
    /// object: objects listed but not loaded are read, objects loaded but no
    /// longer listed are dropped, and with them every snapshot no listed object
    /// holds. The cost follows the objects that changed, not the snapshots.
    func syncSnapshotObjects() async throws {
        let listed = Set(try await store.list(.snapshots).map(\.name))
        let known = try index.snapshotObjectNames()
        var damaged: [String: String] = [:]
        var fresh = listed.subtracting(known)
        // A single snapshot a forget record names is not a new one, whatever the store holds.
        let forgotten = try index.forgotten(Array(fresh))
        for (id, time) in forgotten.sorted(by: { $0.key < $1.key }) {
            warnOnce(ObjectKey(.snapshots, id), ForgetRecords.replayed(id, forgottenAt: time))
            fresh.remove(id)
        }
        // Each object is opened and decoded in the task that fetched it (on every core); the
        // cache takes them one at a time, in order.
        try await fetchInOrder(fresh.sorted().map { ObjectKey(.snapshots, $0) }, prepare: { [self] key, fetched in
            switch fetched {
            case .gone: return Result<DecodedSnapshotObject?, Error>.success(nil)
            case .unusable(let why): return .failure(CairnError.other(why))
            case .bytes(let bytes): return Result { try decodeSnapshotObject(key, bytes) }
            }
        }) { key, decoded in
            do {
                guard let decoded = try decoded.get() else { return }
                let (object, rows) = try withoutForgotten(decoded)
                try index.addSnapshotObject(object, rows: rows)
            } catch {
                let why = describe(error)
                damaged[key.name] = why
                warnOnce(key, "snapshot object \(key.name.prefix(12)) is damaged (\(why)): skipped; run 'cairn scrub'")
            }
        }
        damagedSnapshots.withLock { $0 = damaged }
        try index.removeSnapshotObjects(Array(known.subtracting(listed)))
    }

    /// A store object of `snapshots/`, opened and decoded (no cache access:
    /// `syncSnapshotObjects` decodes several at once).
    struct DecodedSnapshotObject: Sendable {
        var object: LoadedSnapshotObject
        var rows: [SnapshotRow]
    }

    /// A store object of `snapshots/` as the cache records it: a single
    /// snapshot (envelope version 1), checked against its name (its id:
    /// content under another name would restore the wrong snapshot), or a
    /// catalogue (version 2, format-spec v2.md), whose entries carry their
    /// ids; entries this Cairn cannot decode make it incomplete.
    func decodeSnapshotObject(_ key: ObjectKey, _ bytes: [UInt8]) throws -> DecodedSnapshotObject {
        let (version, plain) = try keys.openObjectVersioned(.snapshot, bytes)
        if version == 1 {
            guard MetadataObjects.matchesName(key, bytes) else { throw CairnError.other(MetadataObjects.nameMismatch) }
            let s = try Snapshot.decode(plain)
            return DecodedSnapshotObject(object: LoadedSnapshotObject(name: key.name, kind: .single, size: Int64(bytes.count), snapshots: 1),
                                         rows: [SnapshotRow(id: key.name, snapshot: s, plaintext: plain)])
        }
        // Sealed under the repository's key, so its content is authentic under any name.
        if !MetadataObjects.matchesName(key, bytes) {
            warnOnce(key, "snapshot catalogue \(key.name.prefix(12)) \(MetadataObjects.nameMismatch); its content is still used; run 'cairn scrub'")
        }
        let catalogue = try SnapshotCatalogue.decode(plain)
        var rows: [SnapshotRow] = []
        rows.reserveCapacity(catalogue.entries.count)
        var complete = true
        for e in catalogue.entries {
            do {
                rows.append(SnapshotRow(id: e.id.hex, snapshot: try Snapshot.decode(e.plaintext), plaintext: e.plaintext))
            } catch {
                complete = false
                warnOnce(ObjectKey(.snapshots, e.id.hex), "snapshot \(e.id.hex.prefix(12)) in catalogue \(key.name.prefix(12)) cannot be read (\(describe(error))): skipped")
            }
        }
        return DecodedSnapshotObject(object: LoadedSnapshotObject(name: key.name, kind: .catalogue, size: Int64(bytes.count),
                                                                  snapshots: rows.count, complete: complete), rows: rows)
    }

    /// A decoded object without the catalogue entries a forget record names
    /// (a forget stopped before it rewrote the catalogue, or an old catalogue
    /// put back). A single snapshot a record names never gets here.
    func withoutForgotten(_ decoded: DecodedSnapshotObject) throws -> (LoadedSnapshotObject, [SnapshotRow]) {
        guard decoded.object.kind == .catalogue else { return (decoded.object, decoded.rows) }
        let forgotten = try index.forgotten(decoded.rows.map(\.id))
        guard !forgotten.isEmpty else { return (decoded.object, decoded.rows) }
        var object = decoded.object
        let rows = decoded.rows.filter { forgotten[$0.id] == nil }
        object.snapshots = rows.count
        return (object, rows)
    }

    /// Store objects this process has warned about: a command that syncs twice says it once.
    private let warned = Mutex<Set<ObjectKey>>([])

    private func warnOnce(_ key: ObjectKey, _ message: String) {
        if warned.withLock({ $0.insert(key).inserted }) { warnings.warn(message) }
    }

    /// Snapshot objects the last `sync` found unusable, by id, with why.
    let damagedSnapshots = Mutex<[String: String]>([:])

    /// One object as `fetchInOrder` hands it over.
    enum FetchedObject {
        case bytes([UInt8])
        /// Deleted since the listing (a concurrent forget or prune).
        case gone
        /// Refused unread (too large): why.
        case unusable(String)
    }

    /// Objects a sync reads at once. A cache rebuilt after a disaster reads
    /// every index delta and snapshot (two per archived WAL segment): one GET
    /// at a time, 80,000 of them at 10 ms each is a quarter of an hour.
    static let syncFetchWindow = 16

    /// Reads `keys` (sizes checked first, `MetadataObjects.read`) with up to
    /// `syncFetchWindow` requests in flight and hands each object to `body`
    /// in the order of `keys`, on this task. An object deleted meanwhile or
    /// refused for its size is handed over as such; other store errors throw.
    func fetchInOrder(_ keys: [ObjectKey], _ body: (ObjectKey, FetchedObject) throws -> Void) async throws {
        try await fetchInOrder(keys, prepare: { _, fetched in fetched }, body)
    }

    /// `fetchInOrder`, with `prepare` run on each object in the task that
    /// fetched it, so that up to `syncFetchWindow` objects are decoded at
    /// once; `body` gets what it made, in the order of `keys`, on this task.
    func fetchInOrder<Prepared: Sendable>(_ keys: [ObjectKey], prepare: @escaping @Sendable (ObjectKey, FetchedObject) -> Prepared,
                                          _ body: (ObjectKey, Prepared) throws -> Void) async throws {
        guard !keys.isEmpty else { return }
        let store = self.store
        var pending: [Task<Prepared, Error>] = []
        var next = 0
        func refill() {
            while pending.count < Self.syncFetchWindow, next < keys.count {
                let key = keys[next]
                pending.append(Task {
                    let fetched: FetchedObject
                    do { fetched = .bytes(try await MetadataObjects.read(store, key)) }
                    catch StorageError.notFound { fetched = .gone }
                    catch CairnError.damagedObject(_, let why) { fetched = .unusable(why) }
                    return prepare(key, fetched)
                })
                next += 1
            }
        }
        refill()
        var done = 0
        do {
            while !pending.isEmpty {
                let fetched = try await pending.removeFirst().value
                refill()
                try body(keys[done], fetched)
                done += 1
            }
        } catch {
            for t in pending { t.cancel() }
            for t in pending { _ = try? await t.value }
            throw error
        }
    }

    // MARK: metadata objects

    /// Writes index deltas naming `packs` (several when they are many,
    /// `IndexDelta.parts`), the one naming `supersedes` last; returns the
    /// name of the last one.
    @discardableResult
    public func saveIndexDelta(_ packs: [IndexedPack], supersedes: [IndexObjectID] = []) async throws -> String {
        try await saveIndexDeltas(packs, supersedes: supersedes).last!
    }

    /// `saveIndexDelta`, returning every name written, in order.
    public func saveIndexDeltas(_ packs: [IndexedPack], supersedes: [IndexObjectID] = []) async throws -> [String] {
        let writer = IndexDeltaWriter(repo: self)
        writer.afterWrite = { [index] name, packs, size in try index.markIndexed(packs.map(\.id), indexObject: name, size: size) }
        for pack in packs { try await writer.add(pack) }
        return try await writer.finish(supersedes: supersedes)
    }

    /// Writes every pack the cache knows but no index delta names yet.
    public func flushUnindexedPacks() async throws {
        let packs = try index.unindexedPacks()
        if !packs.isEmpty { try await saveIndexDelta(packs) }
    }

    /// Commits a snapshot: the commit point of a backup.
    public func saveSnapshot(_ snapshot: Snapshot) async throws -> String {
        let plain = snapshot.encoded()
        let sealed = try keys.sealObject(.snapshot, plain)
        // Readers refuse larger snapshot objects unread (format-spec §2): never write one.
        if let cap = MetadataObjects.maximumSize(.snapshots), UInt64(sealed.count) > cap {
            throw CairnError.invalidArgument("the snapshot would be \(sealed.count) bytes, more than the \(cap) a snapshot object may have: record fewer paths, tags or extra facts")
        }
        let id = Hex.encode(SHA256.hash(sealed))
        try await store.put(ObjectKey(.snapshots, id), sealed)
        try index.addSnapshotObject(LoadedSnapshotObject(name: id, kind: .single, size: Int64(sealed.count), snapshots: 1),
                                    rows: [SnapshotRow(id: id, snapshot: snapshot, plaintext: plain)])
        return id
    }

    /// Every snapshot, oldest first; with `name`, those of that name only (an indexed query).
    public func snapshots(name: String? = nil) throws -> [SnapshotRecord] {
        try records(try index.snapshotRows(name: name))
    }

    /// The snapshots of any name whose `extra[key]` is `value`, oldest first (an indexed query).
    public func snapshots(extra key: Snapshot.ExtraKey, value: String) throws -> [SnapshotRecord] {
        try records(try index.snapshotRows(attribute: key.rawValue, value: value))
    }

    /// The newest snapshot (of one name, and of one source kind, when given), from one indexed row.
    public func latestSnapshot(name: String? = nil, sourceKind: Snapshot.SourceKind? = nil) throws -> SnapshotRecord? {
        try index.latestSnapshot(name: name, sourceKind: sourceKind?.rawValue).flatMap { try records([$0]).first }
    }

    /// Decoded rows; a row that no longer decodes (written by a newer Cairn) is left out, as is
    /// one whose id is no snapshot id (the cache holds ids as hex; it is rebuilt from the store).
    private func records(_ rows: [SnapshotRow]) throws -> [SnapshotRecord] {
        rows.compactMap { row in
            guard let id = SnapshotID(hex: row.id), let snapshot = try? Snapshot.decode(row.plaintext) else { return nil }
            return SnapshotRecord(id: id, snapshot: snapshot)
        }
    }

    /// Resolves an id, a unique id prefix, or `latest` (optionally of one name).
    /// Neither decodes more than the snapshots it returns.
    public func resolveSnapshot(_ spec: String, name: String? = nil) throws -> SnapshotRecord {
        if spec == "latest" {
            guard let last = try latestSnapshot(name: name) else {
                throw CairnError.snapshotNotFound(name.map { "latest of \($0)" } ?? "latest")
            }
            return last
        }
        let prefix = spec.lowercased()
        let matches = spec.isEmpty ? [] : try records(try index.snapshotRows(idPrefix: prefix, name: name))
        guard let first = matches.first else {
            // An id whose object is in the store but was refused says so, rather than "no such snapshot".
            if !spec.isEmpty, let (id, why) = damagedSnapshots.withLock({ $0.first { $0.key.hasPrefix(prefix) } }) {
                throw CairnError.damagedObject("snapshot \(id.prefix(12)) (snapshots/\(id))", "\(why); it cannot be used: run 'cairn scrub'")
            }
            throw CairnError.snapshotNotFound(spec)
        }
        guard matches.count == 1 else { throw CairnError.ambiguousSnapshot(spec, matches.map { String($0.id.hex.prefix(12)) }) }
        return first
    }

    // MARK: reading blobs

    /// Reads, authenticates, decompresses and hash-checks one blob.
    public func readBlob(_ type: BlobType, _ id: ChunkID) async throws -> [UInt8] {
        return try await readBlob(type, id, at: try await locate(id, type: type))
    }

    /// Where the index puts a blob. A blob the local cache lacks is not yet
    /// proof that the repository lacks it: the cache is reloaded from the
    /// store's index objects once (per process) and asked again, so that only
    /// what the store itself does not name is reported missing.
    public func locate(_ id: ChunkID, type: BlobType) async throws -> BlobLocation {
        if let loc = try index.lookup(id, type: type) { return loc }
        try await reloadAfterMiss(id)
        guard let loc = try index.lookup(id, type: type) else { throw CairnError.missingBlob(id.hex) }
        return loc
    }

    /// `locate` for many ids; results in the order of `ids`.
    public func locate(_ ids: [ChunkID], type: BlobType) async throws -> [BlobLocation] {
        var found = try index.lookup(ids, type: type)
        if let i = found.firstIndex(where: { $0 == nil }) {
            try await reloadAfterMiss(ids[i])
            found = try index.lookup(ids, type: type)
        }
        return try zip(ids, found).map { id, loc in
            guard let loc else { throw CairnError.missingBlob(id.hex) }
            return loc
        }
    }

    /// Reloads every blob location from the store's index objects, once per
    /// repository object (concurrent callers wait for the same reload).
    func reloadAfterMiss(_ id: ChunkID) async throws {
        let task: Task<Void, Error> = cacheCheck.withLock { pending in
            if let t = pending { return t }
            let t = Task {
                self.warnings.warn("blob \(id.short) is not in the local index; reloading it from the store's index objects to check")
                try self.index.dropBlobLocations()
                try await self.sync()
            }
            pending = t
            return t
        }
        try await task.value
    }

    /// A tree, from the cache when possible.
    public func loadTree(_ id: ChunkID) async throws -> Tree {
        if let cached = try index.cachedTree(id) { return try Tree.decode(cached) }
        let plain = try await readBlob(.tree, id)
        try index.cacheTree(id, plain)
        return try Tree.decode(plain)
    }

    /// Reads and decrypts a pack's header from the end of the pack.
    public func readPackHeader(_ pack: PackID, size: UInt64) async throws -> PackHeader {
        let key = ObjectKey(.data, pack.hex)
        let what = "pack \(pack.hex)"
        guard size >= UInt64(PackTrailer.length) else { throw FormatError.truncated(what: what) }
        let tail = try await store.get(key, offset: size - UInt64(PackTrailer.length), length: PackTrailer.length)
        let range = try PackTrailer.sealedHeaderRange(tail: tail, packSize: size, what: what)
        let sealed = try await store.get(key, offset: range.lowerBound, length: Int(range.count))
        let plain = try keys.openPackHeader(sealed)
        return try PackHeader.decode(plain, dataLength: range.lowerBound)
    }

    /// The chunker of a profile under this repository's secret seed.
    public func chunker(profile: String) throws -> FastCDC {
        guard let p = config.profile(named: profile) else {
            throw CairnError.usage("unknown chunker profile \(profile.debugDescription); known: \(config.profiles.map(\.name).joined(separator: ", "))")
        }
        return try FastCDC(p.parameters(seed: chunkerSeed))
    }

    /// The seed of this repository's chunker: the config's shared seed when it
    /// has one (`cairn init --copy-chunker-from`), else the one derived from the master key.
    public var chunkerSeed: UInt64 { config.chunkerSeed ?? keys.chunkerSeed }
}

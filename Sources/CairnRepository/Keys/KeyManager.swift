import CairnCrypto
import CairnFormat
import CairnStorage

/// Adds, lists, removes and changes the passphrases that open a repository,
/// and rotates its master key. Every key file wraps the same master keys, so
/// adding, removing or changing a passphrase rewrites no data and revokes
/// nothing from someone who kept a copy of a key file (Docs/security.md);
/// `rotate` is what shuts such a holder out of data written afterwards.
public struct KeyManager {
    let repo: Repository
    public init(repo: Repository) { self.repo = repo }

    public struct KeyInfo: Sendable {
        public let id: String
        public let createdNanos: Int64
        public let host: String
        public let user: String
        public let isCurrent: Bool
        /// Why the key file cannot be used (damaged, tampered, junk); nil for a sound one.
        public let problem: String?
        /// Key file version: 1 wraps one master key, 2 the keyring of a rotated repository.
        public var version: UInt16 = KeyFile.singleKeyVersion
    }

    /// Every key file, damaged ones included (with their `problem`), so junk can be seen and removed.
    public func list() async throws -> [KeyInfo] {
        var out: [KeyInfo] = []
        for key in try await repo.store.list(.keys) where !KeyReplacement.isRecordName(key.name) {
            do {
                let bytes = try await MetadataObjects.read(repo.store, key)
                let f = try KeyFile.decode(bytes)
                out.append(KeyInfo(id: key.name, createdNanos: f.createdNanos, host: f.host, user: f.user, isCurrent: key.name == repo.keyID,
                                   problem: MetadataObjects.matchesName(key, bytes) ? nil : MetadataObjects.nameMismatch, version: f.version))
            } catch StorageError.notFound {
                continue
            } catch {
                let why: String
                if case CairnError.damagedObject(_, let w) = error { why = w } else { why = describe(error) }
                out.append(KeyInfo(id: key.name, createdNanos: 0, host: "", user: "", isCurrent: false, problem: why))
            }
        }
        return out.sorted { ($0.createdNanos, $0.id) < ($1.createdNanos, $1.id) }
    }

    /// Wraps the master key under a new passphrase; returns the new key's id.
    public func add(passphrase: [UInt8], parameters: ScryptParameters = .default) async throws -> String {
        let file = try repo.keys.wrap(passphrase: passphrase, parameters: parameters, host: Host.name, user: Host.user, nowNanos: Clock.nowNanos())
        let bytes = file.encoded()
        let id = Hex.encode(SHA256.hash(bytes))
        try await repo.store.put(ObjectKey(.keys, id), bytes)
        return id
    }

    /// Removes a key by id or unique prefix; never the last sound one, and
    /// the key this repository was opened with only with `force` (restic's rule).
    ///
    /// Removing a key file revokes nothing by itself: whoever kept a copy of
    /// it and knows its passphrase still has the master key (Docs/security.md;
    /// `rotate` replaces the master key for new data).
    public func remove(_ spec: String, force: Bool = false) async throws -> String {
        let keys = try await list()
        let matches = keys.filter { $0.id.hasPrefix(spec.lowercased()) }
        guard !spec.isEmpty, let k = matches.first else { throw CairnError.keyNotFound(spec) }
        guard matches.count == 1 else { throw CairnError.invalidArgument("key prefix \(spec.debugDescription) matches \(matches.count) keys: give more digits") }
        // Damaged key files can always go; the last sound one never.
        if k.problem == nil {
            guard keys.contains(where: { $0.problem == nil && $0.id != k.id }) else { throw CairnError.lastKey }
            guard k.id != repo.keyID || force else { throw CairnError.removingCurrentKey(k.id) }
        }
        try await repo.checkMayDelete(.keys, before: "key remove")
        try await repo.store.delete(ObjectKey(.keys, k.id))
        return k.id
    }

    /// Replaces the key that opened the repository with one for
    /// `newPassphrase`. Stopped at any instant, it leaves exactly one of the
    /// two passphrases able to open the repository once the next reader has
    /// looked (`PassphraseChange`).
    public func changePassphrase(to newPassphrase: [UInt8], parameters: ScryptParameters = .default) async throws -> String {
        try await repo.checkMayDelete(.keys, before: "key passwd")
        return try await PassphraseChange.run(repo, passphrase: newPassphrase, parameters: parameters)
    }

    /// What `rotate` did.
    public struct Rotation: Sendable {
        /// The one key file left, for the new passphrase.
        public let key: String
        /// The generation of the new master key (0 was the first).
        public let generation: UInt32
        /// Key files (and pending passphrase-change records) deleted.
        public let removed: [String]
        /// An interrupted rotation was found (its key file opens with the new passphrase and holds
        /// every key this one does) and finished, instead of rotating again.
        public var resumed = false
    }

    /// Rotates the master key: a new one (the next generation) seals
    /// everything written from now on; the earlier ones are kept, sealed,
    /// inside the new key file only, so old data stays readable. Every other
    /// key file is deleted: each wrapped only the earlier keys, so a copy of
    /// one, with its passphrase, opens what was written before the rotation
    /// and nothing after it. Other passphrases are added again with `add`.
    ///
    /// Run under an exclusive lock (no backup writing meanwhile). Stopped
    /// after the new key file is stored, the old key files still open the
    /// repository with the earlier keys only; running it again with the same
    /// new passphrase finishes that rotation (whichever passphrase opened the
    /// repository) rather than deleting the key file it stored, which may
    /// already seal data.
    public func rotate(to passphrase: [UInt8], parameters: ScryptParameters = .default) async throws -> Rotation {
        try await repo.checkMayDelete(.keys, before: "key rotate")
        let others = try await repo.store.list(.keys).map(\.name).filter { $0 != repo.keyID && !KeyReplacement.isRecordName($0) }
        if let (name, ring) = try await unfinishedRotation(among: others, newPassphrase: passphrase) {
            let removed = try await deleteKeys(except: name)
            return Rotation(key: name, generation: ring.currentGeneration, removed: removed, resumed: true)
        }
        let rotated = try repo.keys.rotated()
        let file = try rotated.wrap(passphrase: passphrase, parameters: parameters, host: Host.name, user: Host.user, nowNanos: Clock.nowNanos())
        let bytes = file.encoded()
        let id = Hex.encode(SHA256.hash(bytes))
        try await repo.store.put(ObjectKey(.keys, id), bytes)
        // The new key file is stored: from here every earlier one is only a way into old data.
        return Rotation(key: id, generation: rotated.currentGeneration, removed: try await deleteKeys(except: id))
    }

    private func deleteKeys(except kept: String) async throws -> [String] {
        var removed: [String] = []
        for key in try await repo.store.list(.keys).sorted(by: { $0.name < $1.name }) where key.name != kept {
            try await repo.store.delete(key)
            removed.append(key.name)
        }
        return removed
    }

    /// Key files tried with the new passphrase before a rotation (newest first): an
    /// interrupted rotation left one, recently; junk must not make `rotate` slow.
    static let resumeCandidates = 16

    /// A version-2 key file among `names` that the new passphrase opens and
    /// whose keyring holds every key of the one that opened the repository and
    /// a newer current key: what an interrupted rotation (to this passphrase)
    /// stored. Throws when the new passphrase opens a key file holding keys
    /// this keyring lacks (deleting it could make data unreadable), and when
    /// a never-rotated repository holds a rotated key file this passphrase
    /// does not open (an interrupted rotation to another passphrase, or junk).
    func unfinishedRotation(among names: [String], newPassphrase: [UInt8]) async throws -> (String, Keyring)? {
        var rotatedFiles: [(name: String, file: KeyFile)] = []
        for name in names {
            guard let bytes = try? await MetadataObjects.read(repo.store, ObjectKey(.keys, name)),
                  let file = try? KeyFile.decode(bytes), file.version == KeyFile.keyringVersion,
                  file.scrypt.outOfBoundsReason == nil else { continue }
            rotatedFiles.append((name, file))
        }
        rotatedFiles.sort { ($0.file.createdNanos, $0.name) > ($1.file.createdNanos, $1.name) }
        let mine = Dictionary(repo.keys.generations.map { ($0.number, $0.keys.master) }, uniquingKeysWith: { a, _ in a })
        for (name, file) in rotatedFiles.prefix(Self.resumeCandidates) {
            guard let ring = try Keyring.unwrap(file, passphrase: newPassphrase) else { continue }
            let theirs = Dictionary(ring.generations.map { ($0.number, $0.keys.master) }, uniquingKeysWith: { a, _ in a })
            if mine.allSatisfy({ theirs[$0.key] == $0.value }) && ring.currentGeneration > repo.keys.currentGeneration {
                return (name, ring)
            }
            if !theirs.allSatisfy({ mine[$0.key] == $0.value }) {
                throw CairnError.invalidArgument("key file \(name.prefix(8)) opens with the new passphrase and holds master keys the key file this command opened does not: open the repository with the new passphrase and run 'cairn key rotate' again")
            }
        }
        // In a repository never rotated every sound key file is version 1.
        if repo.keys.generations.count == 1, repo.keys.currentGeneration == 0, let stray = rotatedFiles.first {
            throw CairnError.invalidArgument("key file \(stray.name.prefix(8)) holds a rotated keyring this passphrase does not open: a rotation to another passphrase was interrupted? Run 'cairn key rotate' again with the passphrase it was given, or open the repository with it; if the key file is not yours, 'cairn key remove \(stray.name.prefix(8))'")
        }
        return nil
    }
}

import CairnCrypto
import CairnFormat
import CairnStorage

/// Adds, lists, removes and changes the passphrases that open a repository.
/// Every key file wraps the same master key, so none of this rewrites data.
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
    }

    /// Every key file, damaged ones included (with their `problem`), so junk can be seen and removed.
    public func list() async throws -> [KeyInfo] {
        var out: [KeyInfo] = []
        for key in try await repo.store.list(.keys) where !KeyReplacement.isRecordName(key.name) {
            do {
                let bytes = try await MetadataObjects.read(repo.store, key)
                let f = try KeyFile.decode(bytes)
                out.append(KeyInfo(id: key.name, createdNanos: f.createdNanos, host: f.host, user: f.user, isCurrent: key.name == repo.keyID,
                                   problem: MetadataObjects.matchesName(key, bytes) ? nil : MetadataObjects.nameMismatch))
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
        try await repo.store.delete(ObjectKey(.keys, k.id))
        return k.id
    }

    /// Replaces the key that opened the repository with one for
    /// `newPassphrase`. Stopped at any instant, it leaves exactly one of the
    /// two passphrases able to open the repository once the next reader has
    /// looked (`PassphraseChange`).
    public func changePassphrase(to newPassphrase: [UInt8], parameters: ScryptParameters = .default) async throws -> String {
        try await PassphraseChange.run(repo, passphrase: newPassphrase, parameters: parameters)
    }
}

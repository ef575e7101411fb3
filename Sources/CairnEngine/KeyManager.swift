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
    }

    public func list() async throws -> [KeyInfo] {
        var out: [KeyInfo] = []
        for key in try await repo.store.list(.keys) {
            guard let f = try? KeyFile.decode(try await repo.store.get(key)) else { continue }
            out.append(KeyInfo(id: key.name, createdNanos: f.createdNanos, host: f.host, user: f.user, isCurrent: key.name == repo.keyID))
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

    /// Removes a key by id or unique prefix; never the last one.
    public func remove(_ spec: String) async throws -> String {
        let keys = try await list()
        let matches = keys.filter { $0.id.hasPrefix(spec) }
        guard !spec.isEmpty, let k = matches.first else { throw CairnError.keyNotFound(spec) }
        guard matches.count == 1 else { throw CairnError.invalidArgument("key prefix \(spec.debugDescription) matches \(matches.count) keys: give more digits") }
        guard keys.count > 1 else { throw CairnError.lastKey }
        try await repo.store.delete(ObjectKey(.keys, k.id))
        return k.id
    }

    /// Replaces the key that opened the repository with one for `newPassphrase`.
    public func changePassphrase(to newPassphrase: [UInt8], parameters: ScryptParameters = .default) async throws -> String {
        let id = try await add(passphrase: newPassphrase, parameters: parameters)
        try await repo.store.delete(ObjectKey(.keys, repo.keyID))
        return id
    }
}

import CairnCrypto
import CairnFormat
import CairnStorage

/// `cairn key passwd` made safe to stop at any instant (format-spec §6, key
/// replacement records). The store cannot swap two objects at once, so the
/// change is written as: a sealed record "key OLD is replaced by key NEW",
/// then the new key file, then the old key file is deleted, then the record.
/// Every reader that opens the repository finishes a change it finds:
///
/// - record, no new key file: the change never took effect; the record goes;
/// - record and new key file: the old key file goes, then the record; a
///   reader that opened with the old passphrase is then refused, so from the
///   moment the new key file exists exactly one of the two passphrases opens.
enum PassphraseChange {
    /// Replaces the key that opened `repo` with a new key file for `passphrase`; returns its name.
    static func run(_ repo: Repository, passphrase: [UInt8], parameters: ScryptParameters) async throws -> String {
        let file = try repo.keys.wrap(passphrase: passphrase, parameters: parameters, host: Host.name, user: Host.user, nowNanos: Clock.nowNanos())
        let bytes = file.encoded()
        let newKey = Hex.encode(SHA256.hash(bytes))
        let record = try repo.keys.sealObject(.keyReplacement, KeyReplacement(oldKey: repo.keyID, newKey: newKey, timeNanos: Clock.nowNanos()).encoded())
        let recordKey = ObjectKey(.keys, KeyReplacement.namePrefix + Hex.encode(SHA256.hash(record)))
        try await repo.store.put(recordKey, record)
        try await repo.store.put(ObjectKey(.keys, newKey), bytes)
        try await repo.store.delete(ObjectKey(.keys, repo.keyID))
        try await repo.store.delete(recordKey)
        return newKey
    }

    /// Finishes every change a record in `keyNames` describes, with the keys
    /// the repository was opened with; throws `passphraseReplaced` when the
    /// key that opened it (`openedKey`) is one a change replaced.
    static func settle(store: any ObjectStore, keys: Keyring, openedKey: String, keyNames: [String], warnings: any WarningReporter) async throws {
        for name in keyNames where KeyReplacement.isRecordName(name) {
            let key = ObjectKey(.keys, name)
            let record: KeyReplacement
            do {
                let bytes = try await MetadataObjects.read(store, key)
                guard name == KeyReplacement.namePrefix + Hex.encode(SHA256.hash(bytes)) else { throw CairnError.other(MetadataObjects.nameMismatch) }
                record = try KeyReplacement.decode(try keys.openObject(.keyReplacement, bytes))
            } catch StorageError.notFound {
                continue   // finished by another reader meanwhile
            } catch {
                // Not written with this repository's master key: nothing to act on.
                warnings.warn("keys/\(name.prefix(24)) is not an authentic key replacement record (\(describe(error))): ignored; 'cairn key list' shows the key files")
                continue
            }
            guard await isSoundKeyFile(store, record.newKey) else {
                // Stopped before the new key file was stored (or it is damaged): the change did not happen.
                // A reader that may not delete leaves the record for one that may.
                try? await store.delete(key)
                continue
            }
            var finished = true
            do {
                try await store.delete(ObjectKey(.keys, record.oldKey))
                try await store.delete(key)
            } catch {
                finished = false
                // A reader that may not delete (append-only credentials) still works; the old
                // passphrase stops opening the repository all the same: the record says it was replaced.
                warnings.warn("an interrupted 'cairn key passwd' replaced key \(record.oldKey.prefix(8)) by key \(record.newKey.prefix(8)), and removing the old one failed (\(describe(error))); run any command with credentials that may delete to finish it")
            }
            if record.oldKey == openedKey { throw CairnError.passphraseReplaced(old: record.oldKey, new: record.newKey) }
            if finished { warnings.warn("finished an interrupted 'cairn key passwd': key \(record.oldKey.prefix(8)) was replaced by key \(record.newKey.prefix(8)) and is removed") }
        }
    }

    /// Whether `keys/name` is a key file whose bytes decode and hash to its name.
    private static func isSoundKeyFile(_ store: any ObjectStore, _ name: String) async -> Bool {
        guard let bytes = try? await MetadataObjects.read(store, ObjectKey(.keys, name)) else { return false }
        return Hex.encode(SHA256.hash(bytes)) == name && (try? KeyFile.decode(bytes)) != nil
    }
}

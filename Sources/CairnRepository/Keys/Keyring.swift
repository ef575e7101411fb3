import CairnCrypto
import CairnFormat
import Synchronization

/// A repository's master keys: the current one, which seals everything
/// written now, and those `cairn key rotate` replaced, which still open what
/// was written under them (format-spec §6). A repository never rotated has
/// one, generation 0.
///
/// Readers try the keys newest first (an AEAD tag opens under exactly one
/// key), starting with the one that opened the previous object of the same
/// kind, so reading old data after a rotation costs one failed tag check
/// per run of objects, not one per object.
public struct Keyring: Sendable {
    public struct Generation: Sendable {
        public let number: UInt32
        public let keys: MasterKeys
    }

    /// Newest first; never empty.
    public let generations: [Generation]
    /// Which generation opened the last blob, object and pack header (an index into `generations`).
    private let lastOpened = LastOpened()

    final class LastOpened: Sendable {
        let blob = Atomic<Int>(0)
        let object = Atomic<Int>(0)
    }

    init(generations: [Generation]) {
        precondition(!generations.isEmpty)
        self.generations = generations
    }

    /// A repository's only key, generation 0.
    public init(single keys: MasterKeys) { self.init(generations: [Generation(number: 0, keys: keys)]) }

    public static func generate() throws -> Keyring { Keyring(single: try MasterKeys.generate()) }

    /// The key that seals everything written now.
    public var current: MasterKeys { generations[0].keys }
    public var currentGeneration: UInt32 { generations[0].number }
    /// The current master key.
    public var master: [UInt8] { current.master }
    /// The current metadata key (seals new pack headers).
    var metadata: [UInt8] { current.metadata }
    /// The chunker seed of the first master key: rotation keeps chunk boundaries,
    /// so data backed up after it still dedups against data from before.
    public var chunkerSeed: UInt64 { generations[generations.count - 1].keys.chunkerSeed }

    /// Whether every master key of `other` is one of this keyring's: then
    /// whatever `other` sealed (blobs, pack headers) this keyring opens, and a
    /// pack of `other`'s repository is a valid pack of this one as it is.
    public func holdsEveryKey(of other: Keyring) -> Bool {
        other.generations.allSatisfy { theirs in generations.contains { $0.keys.master == theirs.keys.master } }
    }

    /// This keyring with a new current master key (generation one more than the newest).
    public func rotated() throws -> Keyring {
        guard generations.count < WrappedKeyring.maximumKeys else {
            throw CairnError.invalidArgument("the repository already has \(generations.count) master keys, the most a key file holds")
        }
        return Keyring(generations: [Generation(number: currentGeneration + 1, keys: try MasterKeys.generate())] + generations)
    }

    // MARK: objects sealed under the metadata key

    package func sealObject(_ kind: ObjectKind, _ plaintext: [UInt8], version: UInt16 = ObjectEnvelope.formatVersion) throws -> [UInt8] {
        try current.sealObject(kind, plaintext, version: version)
    }

    /// Opens an envelope object with whichever generation sealed it.
    package func openObject(_ kind: ObjectKind, _ bytes: [UInt8]) throws -> [UInt8] {
        try withEachGeneration(lastOpened.object) { try $0.openObject(kind, bytes) }
    }

    /// The envelope version and plaintext of an object of any version this code reads for `kind`,
    /// opened with whichever generation sealed it.
    func openObjectVersioned(_ kind: ObjectKind, _ bytes: [UInt8]) throws -> (version: UInt16, plaintext: [UInt8]) {
        try withEachGeneration(lastOpened.object) { try $0.openObjectVersioned(kind, bytes) }
    }

    /// Opens a sealed pack header with whichever generation sealed it.
    package func openPackHeader(_ sealed: [UInt8]) throws -> [UInt8] {
        try withEachGeneration(lastOpened.object) { try AESGCM.open(sealed, key: $0.metadata, aad: KeyLabels.packHeaderAAD) }
    }

    /// Runs `body` with the generation that worked last time, then the others
    /// newest first; rethrows the first failure when none works.
    private func withEachGeneration<R>(_ last: borrowing Atomic<Int>, _ body: (MasterKeys) throws -> R) throws -> R {
        let start = last.load(ordering: .relaxed)
        var firstError: (any Error)?
        for i in [start] + generations.indices.filter({ $0 != start }) where i < generations.count {
            do {
                let r = try body(generations[i].keys)
                if i != start { last.store(i, ordering: .relaxed) }
                return r
            } catch {
                if firstError == nil { firstError = error }
            }
        }
        throw firstError!
    }

    /// The generation that opened the previous blob: blob keys are tried from there.
    func firstBlobGeneration() -> Int { generations.count > 1 ? min(lastOpened.blob.load(ordering: .relaxed), generations.count - 1) : 0 }

    /// The generation to try at `attempt` (0, 1, …) when trying starts at `start`:
    /// `start`, then the others newest first. No allocation: this runs once per blob read.
    static func generation(attempt: Int, start: Int) -> Int { attempt == 0 ? start : (attempt <= start ? attempt - 1 : attempt) }

    func noteBlobOpened(by index: Int) {
        if generations.count > 1 { lastOpened.blob.store(index, ordering: .relaxed) }
    }

    // MARK: key files

    /// Wraps the keyring under a passphrase in a new key file: version 1 (byte for byte as
    /// before rotation existed) while the repository has only its first key, else version 2.
    public func wrap(passphrase: [UInt8], parameters: ScryptParameters, host: String, user: String, nowNanos: Int64) throws -> KeyFile {
        let salt = try SecureRandom.bytes(32)
        let single = generations.count == 1 && currentGeneration == 0
        var file = KeyFile(version: single ? KeyFile.singleKeyVersion : KeyFile.keyringVersion, scrypt: parameters, salt: salt,
                           createdNanos: nowNanos, host: host, user: user, sealedMasterKey: [])
        let plaintext = single ? master : WrappedKeyring(entries: generations.map { .init(generation: $0.number, master: $0.keys.master) }).encoded()
        let kek = try Scrypt.derive(passphrase: passphrase, salt: salt, parameters: parameters)
        file.sealedMasterKey = try AESGCM.seal(plaintext, key: kek, aad: file.header())
        return file
    }

    /// Unwraps with a key-encryption key already derived; nil when it does not open this key file.
    static func unwrap(_ file: KeyFile, kek: [UInt8]) -> Keyring? {
        guard let plain = try? AESGCM.open(file.sealedMasterKey, key: kek, aad: file.header()) else { return nil }
        return try? keyring(version: file.version, plaintext: plain)
    }

    /// Unwraps; nil when the passphrase does not open this key file.
    public static func unwrap(_ file: KeyFile, passphrase: [UInt8]) throws -> Keyring? {
        unwrap(file, kek: try Scrypt.derive(passphrase: passphrase, salt: file.salt, parameters: file.scrypt))
    }

    /// The keyring a key file's opened plaintext holds.
    static func keyring(version: UInt16, plaintext: [UInt8]) throws -> Keyring {
        if version == KeyFile.singleKeyVersion {
            guard plaintext.count == 32 else { throw CairnError.other("wrapped key has wrong length") }
            return Keyring(single: MasterKeys(master: plaintext))
        }
        let wrapped = try WrappedKeyring.decode(plaintext)
        return Keyring(generations: wrapped.entries.map { Generation(number: $0.generation, keys: MasterKeys(master: $0.master)) })
    }

    /// The keyring as a key file version 2 seals it (also what the kernel key cache keeps).
    var encoded: [UInt8] {
        WrappedKeyring(entries: generations.map { .init(generation: $0.number, master: $0.keys.master) }).encoded()
    }
}

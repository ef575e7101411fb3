import CLinuxShims
import CairnCrypto
import CairnFormat

/// Keeps a repository's unlocked master key in the kernel's user keyring for
/// a while (opt-in, `--key-cache DURATION`), so that a run of short commands
/// — `wal-push` once per WAL segment, a backup every few minutes — pays the
/// scrypt key derivation (32 MiB; its time is in Docs/performance.md) once.
///
/// Like ssh-agent, the cache trades the KDF for access: the key lives in
/// kernel memory (never on disk), readable by processes of the same user
/// (who can read that user's passphrase file too), and expires after the
/// lifetime. On a kernel shared by containers whose root users are the same
/// user, those containers share the keyring: leave it off there. An entry is found by the hash
/// of the repository's config object and the key file's name; it holds the
/// master key and an HMAC of the passphrase under a key derived from it, so a
/// wrong passphrase still fails (and falls through to scrypt). Where keyrings
/// are unavailable (a seccomp profile, another OS) it silently does nothing.
public struct KeyCache: Sendable {
    /// How long an entry lives, in seconds.
    public let lifetime: UInt32

    /// Nil for a lifetime of zero (no caching).
    public init?(seconds: Double) {
        guard seconds >= 1 else { return nil }
        lifetime = UInt32(min(seconds, 86_400 * 7))
    }

    static func description(configObject: [UInt8], keyName: String) -> String {
        "cairn:" + Hex.encode(SHA256.hash(configObject)).prefix(32) + ":" + keyName.prefix(16)
    }

    static func tag(master: [UInt8], passphrase: [UInt8]) -> [UInt8] {
        HMACSHA256.mac(key: HMACSHA256.derive(key: master, label: "cairn key cache v1"), message: passphrase)
    }

    /// The master keys cached for this config and key file, if the passphrase matches.
    ///
    /// The payload is the master key and a tag (64 bytes) for a repository with one
    /// master key, else the keyring as a version-2 key file seals it and the tag; the
    /// tag is keyed by the current master key.
    func load(configObject: [UInt8], keyName: String, passphrase: [UInt8]) -> Keyring? {
        let serial = cairn_keyring_search(Self.description(configObject: configObject, keyName: keyName))
        guard serial >= 0 else { return nil }
        let capacity = 1 + WrappedKeyring.maximumKeys * WrappedKeyring.entryBytes + 32
        var payload = [UInt8](repeating: 0, count: capacity)
        let n = payload.withUnsafeMutableBytes { cairn_keyring_read(serial, $0.baseAddress, capacity) }
        guard n >= 64, n <= capacity else { return nil }
        let body = Array(payload[..<(n - 32)])
        guard let keys = n == 64 ? Keyring(single: MasterKeys(master: body)) : (try? Keyring.keyring(version: KeyFile.keyringVersion, plaintext: body)) else { return nil }
        let expected = Self.tag(master: keys.master, passphrase: passphrase)
        // Constant time: the comparison must not say how much of the tag matched.
        var difference: UInt8 = 0
        for i in 0..<32 { difference |= expected[i] ^ payload[n - 32 + i] }
        guard difference == 0 else { return nil }
        return keys
    }

    /// Caches keys the passphrase just unlocked the hard way. Best effort.
    func store(_ keys: Keyring, configObject: [UInt8], keyName: String, passphrase: [UInt8]) {
        let body = keys.generations.count == 1 && keys.currentGeneration == 0 ? keys.master : keys.encoded
        let payload = body + Self.tag(master: keys.master, passphrase: passphrase)
        _ = payload.withUnsafeBytes {
            cairn_keyring_add(Self.description(configObject: configObject, keyName: keyName), $0.baseAddress, $0.count, lifetime)
        }
    }
}

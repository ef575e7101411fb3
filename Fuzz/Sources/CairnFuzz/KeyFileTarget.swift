import CairnEngine
import CairnRepository
import CairnFormat

/// A `keys/` object, as every command reads it before knowing which key the
/// passphrase opens. Unwrapping runs only at the cheapest scrypt cost (the
/// decoder's bounds on the cost are what keep a junk key file harmless).
enum KeyFileTarget {
    static let target = FuzzTarget(
        name: "key-file", maxLength: 4096, summary: "KeyFile.decode, then unwrap at the cheapest scrypt cost",
        seeds: {
            let cheap = ScryptParameters(logN: 10, r: 1, p: 1)
            // A version-1 key file (one master key) and a version-2 one (the keyring after a rotation).
            let single = Keyring(single: FuzzKeys.keys)
            return [single, try? single.rotated()].compactMap { ring in
                try? ring?.wrap(passphrase: Array("fuzz".utf8), parameters: cheap, host: "db1", user: "root", nowNanos: 0).encoded()
            }
        },
        run: { bytes in
            guard let file = try? KeyFile.decode(bytes) else { return }
            require(file.encoded() == bytes, "key file does not re-encode to its bytes")
            guard file.scrypt.logN == 10, file.scrypt.r == 1, file.scrypt.p == 1 else { return }
            _ = try? Keyring.unwrap(file, passphrase: Array("fuzz".utf8))
        })
}

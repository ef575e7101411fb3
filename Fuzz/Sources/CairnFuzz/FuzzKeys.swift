import CairnCrypto
import CairnEngine
import CairnRepository
import CairnFormat

/// The fixed keys the targets seal and open with: the master key of
/// format-spec/vectors/crypto.json. Sealing in the harness lets the fuzzer
/// reach the parsers behind authentication, the way someone holding the key
/// (a compromised client of a shared repository) can.
enum FuzzKeys {
    static let master: [UInt8] = Array(0..<32)
    static let keys = MasterKeys(master: master)
    static let metadata = HMACSHA256.derive(key: master, label: KeyLabels.metadata)
    /// A fixed nonce keeps a target deterministic, which libFuzzer's coverage feedback wants.
    static let nonce = [UInt8](repeating: 7, count: SealFraming.nonceLength)

    static func sealMetadata(_ plaintext: [UInt8], aad: [UInt8]) -> [UInt8] {
        do { return try AESGCM.seal(plaintext, key: metadata, nonce: nonce, aad: aad) } catch {
            fatalError("sealing with a fixed key failed: \(error)")
        }
    }
}

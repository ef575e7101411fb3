import COpenSSL
import CairnFormat

/// HMAC-SHA256, used to derive subkeys from the master key.
public enum HMACSHA256 {
    public static func mac<K: ContiguousBytes, M: ContiguousBytes>(key: K, message: M) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var n: UInt32 = 32
        key.withUnsafeBytes { k in
            message.withUnsafeBytes { m in
                out.withUnsafeMutableBytes { o in
                    _ = HMAC(EVP_sha256(), k.baseAddress, Int32(k.count),
                             m.baseAddress?.assumingMemoryBound(to: UInt8.self), m.count,
                             o.baseAddress?.assumingMemoryBound(to: UInt8.self), &n)
                }
            }
        }
        return out
    }

    /// HMAC of a label, the subkey derivation of format v1.
    public static func derive<K: ContiguousBytes>(key: K, label: String) -> [UInt8] {
        mac(key: key, message: Array(label.utf8))
    }
}

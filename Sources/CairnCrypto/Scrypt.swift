import COpenSSL
import CairnFormat

/// scrypt key derivation (RFC 7914) through OpenSSL.
public enum Scrypt {
    public static func derive(passphrase: [UInt8], salt: [UInt8], parameters: ScryptParameters, length: Int = 32) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: length)
        let n = UInt64(1) << UInt64(parameters.logN)
        // Memory needed is 128·r·N (plus p blocks); tell OpenSSL the ceiling explicitly.
        let maxMem = 128 * UInt64(parameters.r) * (n + UInt64(parameters.p) + 2) + (1 << 20)
        let ok = passphrase.withUnsafeBufferPointer { pw in
            salt.withUnsafeBufferPointer { s in
                out.withUnsafeMutableBufferPointer { o in
                    pw.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(pw.count, 1)) { pwc in
                        EVP_PBE_scrypt(pwc, pw.count, s.baseAddress, s.count, n, UInt64(parameters.r), UInt64(parameters.p),
                                       maxMem, o.baseAddress, length)
                    }
                }
            }
        }
        guard ok == 1 else { throw CryptoError.library("EVP_PBE_scrypt") }
        return out
    }
}

import COpenSSL
import CairnFormat

/// AES-256-GCM with 96-bit nonces and 128-bit tags; sealed messages are laid
/// out `nonce ‖ ciphertext ‖ tag`.
public enum AESGCM {
    /// Encrypts with a fresh random nonce.
    public static func seal<P: ContiguousBytes, A: ContiguousBytes>(_ plaintext: P, key: [UInt8], aad: A) throws -> [UInt8] {
        try seal(plaintext, key: key, nonce: try SecureRandom.bytes(SealFraming.nonceLength), aad: aad)
    }

    /// Encrypts with a caller-chosen nonce (test vectors only: never reuse a nonce under one key).
    public static func seal<P: ContiguousBytes, A: ContiguousBytes>(_ plaintext: P, key: [UInt8], nonce: [UInt8], aad: A) throws -> [UInt8] {
        precondition(key.count == 32 && nonce.count == SealFraming.nonceLength)
        guard let ctx = EVP_CIPHER_CTX_new() else { throw CryptoError.library("EVP_CIPHER_CTX_new") }
        defer { EVP_CIPHER_CTX_free(ctx) }
        return try plaintext.withUnsafeBytes { p -> [UInt8] in
            var out = [UInt8](repeating: 0, count: SealFraming.nonceLength + p.count + SealFraming.tagLength)
            for i in 0..<nonce.count { out[i] = nonce[i] }
            try out.withUnsafeMutableBytes { o in
                let ob = o.baseAddress!.assumingMemoryBound(to: UInt8.self)
                guard EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nil, key, nonce) == 1 else { throw CryptoError.library("EncryptInit") }
                var len: Int32 = 0
                try aad.withUnsafeBytes { a in
                    if a.count > 0 {
                        guard EVP_EncryptUpdate(ctx, nil, &len, a.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(a.count)) == 1 else {
                            throw CryptoError.library("EncryptUpdate(aad)")
                        }
                    }
                }
                if p.count > 0 {
                    guard EVP_EncryptUpdate(ctx, ob + SealFraming.nonceLength, &len, p.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(p.count)) == 1 else {
                        throw CryptoError.library("EncryptUpdate")
                    }
                }
                guard EVP_EncryptFinal_ex(ctx, ob + SealFraming.nonceLength + p.count, &len) == 1 else { throw CryptoError.library("EncryptFinal") }
                guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, Int32(SealFraming.tagLength), ob + SealFraming.nonceLength + p.count) == 1 else {
                    throw CryptoError.library("GET_TAG")
                }
            }
            return out
        }
    }

    /// Decrypts and authenticates; throws `authenticationFailed` on any alteration.
    public static func open<S: ContiguousBytes, A: ContiguousBytes>(_ sealed: S, key: [UInt8], aad: A) throws -> [UInt8] {
        precondition(key.count == 32)
        return try sealed.withUnsafeBytes { s -> [UInt8] in
            guard s.count >= SealFraming.overhead else { throw CryptoError.malformed("\(s.count) bytes is shorter than nonce and tag") }
            let n = s.count - SealFraming.overhead
            guard let ctx = EVP_CIPHER_CTX_new() else { throw CryptoError.library("EVP_CIPHER_CTX_new") }
            defer { EVP_CIPHER_CTX_free(ctx) }
            let sb = s.baseAddress!.assumingMemoryBound(to: UInt8.self)
            guard EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nil, key, sb) == 1 else { throw CryptoError.library("DecryptInit") }
            var len: Int32 = 0
            try aad.withUnsafeBytes { a in
                if a.count > 0 {
                    guard EVP_DecryptUpdate(ctx, nil, &len, a.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(a.count)) == 1 else {
                        throw CryptoError.library("DecryptUpdate(aad)")
                    }
                }
            }
            var out = [UInt8](repeating: 0, count: n)
            try out.withUnsafeMutableBytes { o in
                if n > 0 {
                    guard EVP_DecryptUpdate(ctx, o.baseAddress!.assumingMemoryBound(to: UInt8.self), &len, sb + SealFraming.nonceLength, Int32(n)) == 1 else {
                        throw CryptoError.library("DecryptUpdate")
                    }
                }
                let tag = UnsafeMutableRawPointer(mutating: sb + SealFraming.nonceLength + n)
                guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, Int32(SealFraming.tagLength), tag) == 1 else { throw CryptoError.library("SET_TAG") }
                var fin: Int32 = 0
                var scratch = [UInt8](repeating: 0, count: 16)
                guard EVP_DecryptFinal_ex(ctx, &scratch, &fin) == 1 else { throw CryptoError.authenticationFailed }
            }
            return out
        }
    }
}

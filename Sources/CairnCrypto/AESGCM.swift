import COpenSSL
import CairnFormat
import Synchronization

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
        return try sealed.withUnsafeBytes { s in
            try key.withUnsafeBytes { k in try aad.withUnsafeBytes { a in try open(s, key: k, aad: a) } }
        }
    }

    /// Decrypts and authenticates `nonce ‖ ciphertext ‖ tag`; throws `authenticationFailed` on any alteration.
    public static func open(_ s: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer) throws -> [UInt8] {
        guard s.count >= SealFraming.overhead else { throw CryptoError.malformed("\(s.count) bytes is shorter than nonce and tag") }
        let n = s.count - SealFraming.overhead
        return try withDecryptor(key: key, nonce: UnsafeRawBufferPointer(rebasing: s[0..<SealFraming.nonceLength]), aad: aad) { d in
            let out = try [UInt8](unsafeUninitializedCapacity: n) { o, count in
                try d.update(UnsafeRawBufferPointer(rebasing: s[SealFraming.nonceLength..<(SealFraming.nonceLength + n)]),
                             into: UnsafeMutableRawPointer(o.baseAddress))
                count = n
            }
            try d.verify(tag: UnsafeRawBufferPointer(rebasing: s[(SealFraming.nonceLength + n)...]))
            return out
        }
    }

    /// Runs `body` with a decryption under `key`, `nonce` and `aad`. The body
    /// decrypts the ciphertext in one or more `update`s and must call
    /// `verify(tag:)` before trusting any of it (GCM releases plaintext before
    /// the tag is checked). Cipher contexts are pooled: creating one, and
    /// OpenSSL 3's lookup of the algorithm on every init, cost more than
    /// decrypting a small blob.
    public static func withDecryptor<R>(key: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer,
                                        _ body: (borrowing AESGCMDecryptor) throws -> R) throws -> R {
        precondition(key.count == 32 && nonce.count == SealFraming.nonceLength)
        let ctx = try DecryptContexts.shared.checkOut()
        var healthy = false
        defer { DecryptContexts.shared.checkIn(ctx, reusable: healthy) }
        guard EVP_DecryptInit_ex(ctx.pointer, nil, nil, key.baseAddress?.assumingMemoryBound(to: UInt8.self),
                                 nonce.baseAddress?.assumingMemoryBound(to: UInt8.self)) == 1 else {
            throw CryptoError.library("DecryptInit")
        }
        if aad.count > 0 {
            var len: Int32 = 0
            guard EVP_DecryptUpdate(ctx.pointer, nil, &len, aad.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(aad.count)) == 1 else {
                throw CryptoError.library("DecryptUpdate(aad)")
            }
        }
        let d = AESGCMDecryptor(ctx: ctx.pointer)
        let r = try body(d)
        healthy = true
        return r
    }
}

/// One decryption in progress; valid only inside `AESGCM.withDecryptor`.
public struct AESGCMDecryptor: ~Copyable {
    fileprivate let ctx: OpaquePointer

    /// Decrypts `input` to `out` (the same length; may not overlap).
    public func update(_ input: UnsafeRawBufferPointer, into out: UnsafeMutableRawPointer?) throws {
        guard input.count > 0, let out else { return }
        var len: Int32 = 0
        guard EVP_DecryptUpdate(ctx, out.assumingMemoryBound(to: UInt8.self), &len,
                                input.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(input.count)) == 1,
              Int(len) == input.count else {
            throw CryptoError.library("DecryptUpdate")
        }
    }

    /// Checks the 16-byte tag; throws `authenticationFailed` when the
    /// ciphertext, nonce, associated data or key differ from the sealing.
    public func verify(tag: UnsafeRawBufferPointer) throws {
        guard tag.count == SealFraming.tagLength else { throw CryptoError.malformed("tag of \(tag.count) bytes") }
        guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, Int32(SealFraming.tagLength), UnsafeMutableRawPointer(mutating: tag.baseAddress)) == 1 else {
            throw CryptoError.library("SET_TAG")
        }
        var fin: Int32 = 0
        let ok = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { scratch in
            EVP_DecryptFinal_ex(ctx, scratch.baseAddress, &fin)
        }
        guard ok == 1 else { throw CryptoError.authenticationFailed }
    }
}

/// AES-256-GCM decryption contexts, set up with the cipher once and reused
/// (each by one thread at a time) with a new key and nonce per message.
private final class DecryptContexts: Sendable {
    static let shared = DecryptContexts()
    struct Handle: @unchecked Sendable { let pointer: OpaquePointer }
    private let idle = Mutex<[Handle]>([])
    /// Fetched once: `EVP_aes_256_gcm()` makes OpenSSL 3 fetch the provider's implementation at every init.
    private let cipher: Handle?

    init() { cipher = EVP_CIPHER_fetch(nil, "AES-256-GCM", nil).map(Handle.init) }

    func checkOut() throws -> Handle {
        if let h = idle.withLock({ $0.popLast() }) { return h }
        guard let ctx = EVP_CIPHER_CTX_new() else { throw CryptoError.library("EVP_CIPHER_CTX_new") }
        guard EVP_DecryptInit_ex(ctx, cipher?.pointer ?? EVP_aes_256_gcm(), nil, nil, nil) == 1 else {
            EVP_CIPHER_CTX_free(ctx)
            throw CryptoError.library("DecryptInit")
        }
        return Handle(pointer: ctx)
    }

    /// A context that failed midway is freed rather than reused: its state is not worth reasoning about.
    func checkIn(_ h: Handle, reusable: Bool) {
        if reusable {
            let kept = idle.withLock { pool -> Bool in
                guard pool.count < 16 else { return false }
                pool.append(h); return true
            }
            if kept { return }
        }
        EVP_CIPHER_CTX_free(h.pointer)
    }
}

import COpenSSL

/// HMAC-SHA256 under one fixed key, with the key's inner and outer pad
/// blocks hashed once up front. Each MAC then costs two short SHA-256
/// finishes instead of a fresh HMAC context, which OpenSSL 3 fetches and
/// allocates on every one-shot `HMAC()` call: the restore path derives one
/// key per blob, tens of thousands per restore.
public final class HMACSHA256Key: Sendable {
    /// SHA-256 states after absorbing key ⊕ ipad and key ⊕ opad.
    private let inner: PadState
    private let outer: PadState

    private struct PadState: @unchecked Sendable { var ctx: SHA256_CTX }

    public init(key: [UInt8]) {
        // RFC 2104: keys longer than the block are hashed first, shorter ones zero-padded.
        var k = key.count > 64 ? SHA256.hash(key) : key
        k += [UInt8](repeating: 0, count: 64 - k.count)
        func state(_ pad: UInt8) -> PadState {
            var c = SHA256_CTX()
            SHA256_Init(&c)
            let block = k.map { $0 ^ pad }
            SHA256_Update(&c, block, 64)
            return PadState(ctx: c)
        }
        inner = state(0x36)
        outer = state(0x5c)
    }

    /// Writes HMAC-SHA256(key, message) (32 bytes) to `out`.
    public func mac(_ message: UnsafeRawBufferPointer, into out: UnsafeMutableRawPointer) {
        withUnsafeTemporaryAllocation(byteCount: 32, alignment: 8) { h in
            let hp = h.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var c = inner.ctx
            SHA256_Update(&c, message.baseAddress, message.count)
            SHA256_Final(hp, &c)
            var o = outer.ctx
            SHA256_Update(&o, hp, 32)
            SHA256_Final(out.assumingMemoryBound(to: UInt8.self), &o)
        }
    }

    /// HMAC-SHA256(key, message).
    public func mac(_ message: [UInt8]) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 32) { o, n in
            message.withUnsafeBytes { mac($0, into: UnsafeMutableRawPointer(o.baseAddress!)) }
            n = 32
        }
    }
}

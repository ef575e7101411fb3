import COpenSSL
import CairnFormat

/// SHA-256 through OpenSSL's EVP interface (SHA-NI where the CPU has it).
public enum SHA256 {
    /// The digest of one buffer.
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        out.withUnsafeMutableBytes { o in
            _ = EVP_Digest(bytes.baseAddress, bytes.count, o.baseAddress?.assumingMemoryBound(to: UInt8.self), nil, EVP_sha256(), nil)
        }
        return out
    }

    public static func hash<C: ContiguousBytes>(_ bytes: C) -> [UInt8] { bytes.withUnsafeBytes { hash($0) } }

    /// The chunk id of a plaintext.
    public static func id<C: ContiguousBytes>(_ bytes: C) -> ChunkID { ChunkID(bytes: hash(bytes))! }
}

/// Incremental SHA-256, for hashing a pack while it is written.
public struct SHA256Hasher: ~Copyable {
    private let ctx: OpaquePointer

    public init() {
        ctx = EVP_MD_CTX_new()
        EVP_DigestInit_ex(ctx, EVP_sha256(), nil)
    }

    deinit { EVP_MD_CTX_free(ctx) }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        _ = EVP_DigestUpdate(ctx, bytes.baseAddress, bytes.count)
    }

    public mutating func update<C: ContiguousBytes>(_ bytes: C) { bytes.withUnsafeBytes { update($0) } }

    public consuming func finalize() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var n: UInt32 = 0
        out.withUnsafeMutableBytes { _ = EVP_DigestFinal_ex(ctx, $0.baseAddress?.assumingMemoryBound(to: UInt8.self), &n) }
        return out
    }
}

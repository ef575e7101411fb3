import COpenSSL
import CairnFormat

/// SHA-256 through OpenSSL (SHA-NI where the CPU has it).
public enum SHA256 {
    /// Writes the 32-byte digest of `bytes` to `out`. Uses the one-shot
    /// low-level function: the EVP interface of OpenSSL 3 looks the algorithm
    /// up and allocates a context on every call, which costs as much as
    /// hashing a small chunk.
    public static func hash(_ bytes: UnsafeRawBufferPointer, into out: UnsafeMutableRawPointer) {
        _ = COpenSSL.SHA256(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count,
                            out.assumingMemoryBound(to: UInt8.self))
    }

    /// The digest of one buffer.
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 32) { o, n in
            hash(bytes, into: UnsafeMutableRawPointer(o.baseAddress!))
            n = 32
        }
    }

    public static func hash<C: ContiguousBytes>(_ bytes: C) -> [UInt8] { bytes.withUnsafeBytes { hash($0) } }

    /// The chunk id of a plaintext.
    public static func id(_ bytes: UnsafeRawBufferPointer) -> ChunkID {
        withUnsafeTemporaryAllocation(byteCount: 32, alignment: 8) { d in
            hash(bytes, into: d.baseAddress!)
            return ChunkID(raw: UnsafeRawBufferPointer(d))
        }
    }

    /// The chunk id of a plaintext.
    public static func id<C: ContiguousBytes>(_ bytes: C) -> ChunkID { bytes.withUnsafeBytes { id($0) } }

    /// The name of a pack: the SHA-256 of all its bytes (format-spec §9).
    public static func packID<C: ContiguousBytes>(_ bytes: C) -> PackID { PackID(reinterpreting: id(bytes)) }

    /// The id of a snapshot: the SHA-256 of its sealed object (format-spec §13).
    public static func snapshotID<C: ContiguousBytes>(_ sealed: C) -> SnapshotID { SnapshotID(reinterpreting: id(sealed)) }
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

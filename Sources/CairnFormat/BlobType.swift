/// What a blob holds. The value is stored in pack headers and index deltas and
/// is bound into each blob's AEAD associated data.
public enum BlobType: UInt8, Sendable, Hashable, Codable, CaseIterable {
    /// A chunk of file or stream content.
    case data = 0
    /// An encoded `Tree` (one directory level).
    case tree = 1
    /// An encoded `ContentRef` holding a slice of a large file's chunk list.
    case list = 2

    /// Data blobs go to data packs, the others to metadata packs, so metadata
    /// stays small and hot while data may go to cold storage.
    public var packType: PackType { self == .data ? .data : .metadata }
}

/// The kind of blobs a pack holds.
public enum PackType: UInt8, Sendable, Hashable, Codable {
    case data = 0
    case metadata = 1
}

/// How a blob's plaintext payload is encoded before sealing (the first byte of
/// the blob plaintext). Room is kept for delta encodings without a new format
/// version: a reader that meets an unknown encoding fails with a clear error.
public enum BlobEncoding: UInt8, Sendable {
    /// The chunk bytes as they are.
    case raw = 0
    /// One zstd frame holding the chunk bytes.
    case zstd = 1
    /// A zstd frame compressed with the plaintext of a base chunk as a
    /// raw-content dictionary: `2 ‖ base id (32 bytes) ‖ frame`. The base is
    /// named in the blob's index entry too, and bound in its associated data.
    case zstdDelta = 2
}

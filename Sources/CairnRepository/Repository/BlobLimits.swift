import CairnFormat

/// The largest blob of each type a repository holds (format-spec §8): a
/// reader checks an index entry against these before it reads or
/// decompresses anything, so an entry claiming gigabytes is damage, not an
/// allocation.
public struct BlobLimits: Sendable, Equatable {
    /// Raw length of a data chunk: the largest `maximumSize` of the repository's
    /// chunker profiles (which never change; copies between repositories with other
    /// profiles re-chunk).
    public let data: UInt32

    /// Raw length of a tree blob: one directory level. A node of a small file
    /// takes about 100 bytes, of a file of up to 4096 chunks up to 131 KiB (its
    /// chunk ids inline), so 256 MiB is millions of entries; a writer refuses a
    /// larger directory.
    public static let tree: UInt32 = 256 << 20

    /// Raw length of a list blob: a ContentRef of at most the fanout's ids
    /// (1 + 2 + 4096 · 32 = 131 075 bytes, format-spec §11).
    public static let list = UInt32(1 + 2 + ContentRef.fanout * ChunkID.byteCount)

    /// No limit but the format's (u32); for codecs used outside a repository.
    public static let unlimited = BlobLimits(data: UInt32.max)

    public init(data: UInt32) { self.data = data }

    public init(config: RepositoryConfig) {
        data = UInt32(clamping: config.profiles.map(\.maximumSize).max() ?? Int(UInt32.max))
    }

    public func maximumRawLength(_ type: BlobType) -> UInt32 {
        guard self != .unlimited else { return UInt32.max }
        switch type {
        case .data: return data
        case .tree: return Self.tree
        case .list: return Self.list
        }
    }

    /// The largest sealed blob of a type: its raw length, or a zstd frame no
    /// larger than zstd's bound for it, plus the encoding byte, a delta's base
    /// id and the seal's 28 bytes.
    public func maximumStoredLength(_ type: BlobType) -> UInt64 {
        let raw = UInt64(maximumRawLength(type))
        let zstdBound = raw + raw >> 8 + (raw < 128 << 10 ? (128 << 10 - raw) >> 11 : 0)
        return zstdBound + 1 + UInt64(ChunkID.byteCount) + UInt64(SealFraming.overhead)
    }

    /// Why an index entry cannot be a blob of this repository, or nil.
    public func violation(_ type: BlobType, rawLength: UInt32, storedLength: UInt64) -> String? {
        if rawLength > maximumRawLength(type) {
            return "its raw length \(rawLength) is more than the \(maximumRawLength(type)) bytes a \(type) blob may have in this repository"
        }
        if storedLength > maximumStoredLength(type) {
            return "its stored length \(storedLength) is more than the \(maximumStoredLength(type)) bytes a \(type) blob may take"
        }
        return nil
    }
}

/// A blob's plaintext before it is sealed (format-spec §8): `u8 encoding ‖ payload`, where the
/// payload is the content (raw), one zstd frame (zstd), or `base id (32) ‖ zstd frame` (zstdDelta).
/// The engine compresses and seals; this is only the layout, so writers and readers share it.
public enum BlobPlaintext {
    /// Bytes before a delta's frame: the encoding byte and the base id.
    public static let deltaPrefixLength = 1 + ChunkID.byteCount

    /// `0 ‖ content`.
    public static func raw(_ content: UnsafeRawBufferPointer) -> [UInt8] {
        var plain = [BlobEncoding.raw.rawValue]
        plain.reserveCapacity(1 + content.count)
        plain += content
        return plain
    }

    /// `1 ‖ frame`.
    public static func zstd(_ frame: [UInt8]) -> [UInt8] {
        var plain = [BlobEncoding.zstd.rawValue]
        plain.reserveCapacity(1 + frame.count)
        plain += frame
        return plain
    }

    /// `2 ‖ base id ‖ frame`.
    public static func delta(base: ChunkID, frame: [UInt8]) -> [UInt8] {
        var plain = [BlobEncoding.zstdDelta.rawValue]
        plain.reserveCapacity(deltaPrefixLength + frame.count)
        plain += base.bytes
        plain += frame
        return plain
    }

    /// `encoding ‖ payload`, as a copy re-seals a plaintext it proved good elsewhere.
    public static func encoded(_ encoding: BlobEncoding, payload: [UInt8]) -> [UInt8] {
        var plain = [encoding.rawValue]
        plain.reserveCapacity(1 + payload.count)
        plain += payload
        return plain
    }

    /// The base a plaintext (`encoding ‖ payload`) names: nil unless it is a delta long enough to name one.
    public static func deltaBase(encoded plain: [UInt8]) -> ChunkID? {
        guard plain.first == BlobEncoding.zstdDelta.rawValue, plain.count > ChunkID.byteCount else { return nil }
        return ChunkID(bytes: Array(plain[1...ChunkID.byteCount]))
    }

    /// A delta's payload split into the base id it names and its frame; nil when shorter than a base id.
    public static func splitDelta(payload: UnsafeRawBufferPointer) -> (base: ChunkID, frame: UnsafeRawBufferPointer)? {
        guard payload.count >= ChunkID.byteCount else { return nil }
        return (ChunkID(raw: UnsafeRawBufferPointer(rebasing: payload[0..<ChunkID.byteCount])),
                UnsafeRawBufferPointer(rebasing: payload[ChunkID.byteCount...]))
    }
}

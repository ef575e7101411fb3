/// The end of a pack (format-spec §9): `sealed header ‖ u32le(sealed header length)`.
/// Reading a pack starts here, from bytes the store controls, so every length is
/// checked against the pack's size before anything is read or allocated.
public enum PackTrailer {
    /// The length field's size: the last four bytes of every pack.
    public static let length = 4

    /// What follows a pack's blobs: `sealedHeader ‖ u32le(len(sealedHeader))`.
    public static func encode(sealedHeader: consuming [UInt8]) -> [UInt8] {
        var out = sealedHeader
        let n = UInt32(out.count)
        out += [UInt8(n & 0xff), UInt8(n >> 8 & 0xff), UInt8(n >> 16 & 0xff), UInt8(n >> 24)]
        return out
    }

    /// Where the sealed header lies in a pack of `packSize` bytes whose last
    /// four bytes are `tail`. Throws when the recorded length cannot be a sealed
    /// header of that pack.
    public static func sealedHeaderRange(tail: [UInt8], packSize: UInt64, what: String) throws -> Range<UInt64> {
        guard packSize >= UInt64(length), tail.count == length else { throw FormatError.truncated(what: what) }
        let headerLength = UInt64(tail[0]) | UInt64(tail[1]) << 8 | UInt64(tail[2]) << 16 | UInt64(tail[3]) << 24
        guard headerLength + UInt64(length) <= packSize, headerLength >= UInt64(SealFraming.overhead) else {
            throw FormatError.invalid(what: what, reason: "header length \(headerLength) does not fit a pack of \(packSize) bytes")
        }
        let end = packSize - UInt64(length)
        return (end - headerLength)..<end
    }
}

/// The name of an index object: the SHA-256 of its sealed bytes, its object
/// name in `index/` (format-spec §10). What an index delta's `supersedes`
/// lists; not a `ChunkID` or a `PackID`: no blob or pack has this id.
public struct IndexObjectID: SHA256Name {
    public var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    @inlinable
    public init(words w0: UInt64, _ w1: UInt64, _ w2: UInt64, _ w3: UInt64) {
        self.w0 = w0; self.w1 = w1; self.w2 = w2; self.w3 = w3
    }
}

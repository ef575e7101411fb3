/// The id of a snapshot: the SHA-256 of its sealed object (format-spec §13),
/// the name a single snapshot object has in `snapshots/`, kept in catalogues
/// and forget records. Not a `ChunkID`: no blob has this id.
public struct SnapshotID: SHA256Name {
    public var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    @inlinable
    public init(words w0: UInt64, _ w1: UInt64, _ w2: UInt64, _ w3: UInt64) {
        self.w0 = w0; self.w1 = w1; self.w2 = w2; self.w3 = w3
    }
}

/// The name of a pack: the SHA-256 of all its bytes (format-spec §9), its
/// object name in `data/`. Not a `ChunkID`: no blob has this id.
public struct PackID: SHA256Name {
    public var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    @inlinable
    public init(words w0: UInt64, _ w1: UInt64, _ w2: UInt64, _ w3: UInt64) {
        self.w0 = w0; self.w1 = w1; self.w2 = w2; self.w3 = w3
    }
}

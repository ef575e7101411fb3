extension ChunkID {
    /// The id whose bytes are the 32 bytes of `d` (the same id as `init(bytes:)`
    /// gives), read without the array and generic walk of that initialiser.
    public init(raw d: UnsafeRawBufferPointer) {
        precondition(d.count == Self.byteCount)
        w0 = UInt64(bigEndian: d.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        w1 = UInt64(bigEndian: d.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        w2 = UInt64(bigEndian: d.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        w3 = UInt64(bigEndian: d.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
    }

    /// Writes the id's 32 bytes to `out` (the order of `bytes`), without an array.
    public func copyBytes(to out: UnsafeMutableRawPointer) {
        out.storeBytes(of: w0.bigEndian, toByteOffset: 0, as: UInt64.self)
        out.storeBytes(of: w1.bigEndian, toByteOffset: 8, as: UInt64.self)
        out.storeBytes(of: w2.bigEndian, toByteOffset: 16, as: UInt64.self)
        out.storeBytes(of: w3.bigEndian, toByteOffset: 24, as: UInt64.self)
    }
}

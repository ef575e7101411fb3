/// Super-features of a chunk, for finding a similar stored chunk to use as a
/// delta base (after Shilane et al., "WAN optimized replication of backup
/// datasets using stream-informed delta compression", FAST 2012).
///
/// A rolling gear hash runs over the chunk; at content-defined sample points
/// (about one byte in 32) six independent linear transforms of the hash are
/// maximised. Pairs of those maxima are hashed into three super-features. Two
/// chunks that differ in a few places keep most sample points, so they share
/// a super-feature with high probability; unrelated chunks almost never do.
/// Cost: a few operations per byte; storage: three 64-bit values per chunk.
public enum SimilarityFeatures {
    public static let count = 3
    /// The super-features, or nil when the chunk is too small to sample.
    public static func of(_ bytes: UnsafeRawBufferPointer) -> [Int64]? {
        guard bytes.count >= 256 else { return nil }
        // Six maxima in locals, not an array: this loop runs over every byte
        // of every new chunk, and the sample branch must stay register-only.
        var m0: UInt64 = 0, m1: UInt64 = 0, m2: UInt64 = 0, m3: UInt64 = 0, m4: UInt64 = 0, m5: UInt64 = 0
        var hash: UInt64 = 0
        var sampled = 0
        FastCDC.defaultGear.withUnsafeBufferPointer { gear in
            guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
            for i in 0..<bytes.count {
                hash = (hash &<< 1) &+ gear[Int(base[i])]
                // Sample where the top five bits are zero: content-defined, ~1/32 of positions.
                if hash >> 59 == 0 {
                    sampled += 1
                    m0 = max(m0, hash &* 0x9E37_79B9_7F4A_7C15 &+ 0x2545_F491_4F6C_DD1D)
                    m1 = max(m1, hash &* 0xC2B2_AE3D_27D4_EB4F &+ 0x5851_F42D_4C95_7F2D)
                    m2 = max(m2, hash &* 0x1656_67B1_9E37_79F9 &+ 0x1405_7B7E_F767_814F)
                    m3 = max(m3, hash &* 0x85EB_CA77_C2B2_AE63 &+ 0x0000_0001_0000_01B3)
                    m4 = max(m4, hash &* 0x27D4_EB2F_1656_67C5 &+ 0xCBF2_9CE4_8422_2325)
                    m5 = max(m5, hash &* 0xFF51_AFD7_ED55_8CCD &+ 0xD6E8_FEB8_6659_FD93)
                }
            }
        }
        guard sampled >= 4 else { return nil }
        return [superFeature(m0, m1), superFeature(m2, m3), superFeature(m4, m5)]
    }

    /// Hashes a pair of maxima into one super-feature.
    private static func superFeature(_ a: UInt64, _ b: UInt64) -> Int64 {
        var x = a ^ ((b << 17) | (b >> 47))
        x = (x ^ (x >> 33)) &* 0xFF51_AFD7_ED55_8CCD
        x ^= x >> 29
        return Int64(bitPattern: x)
    }

    public static func of(_ bytes: [UInt8]) -> [Int64]? { bytes.withUnsafeBytes { of($0) } }
}

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
    /// Bytes hashed before their samples are folded into the maxima.
    private static let piece = 1024
    /// The super-features, or nil when the chunk is too small to sample.
    public static func of(_ bytes: UnsafeRawBufferPointer) -> [Int64]? {
        guard bytes.count >= 256 else { return nil }
        // Six maxima in locals, not an array: they stay in registers.
        var m0: UInt64 = 0, m1: UInt64 = 0, m2: UInt64 = 0, m3: UInt64 = 0, m4: UInt64 = 0, m5: UInt64 = 0
        var hash: UInt64 = 0
        var sampled = 0
        // Sample points are content-defined, so a branch on them mispredicts
        // about once in 32 bytes, and that was most of the cost. The hash loop
        // instead stores every hash and advances past it only when it is a
        // sample point (no branch); the maxima are then taken over the ~32
        // samples of each 1 KiB piece. Same values, faster (Docs/performance.md,
        // "Third pass").
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: Self.piece) { samples in
            FastCDC.defaultGear.withUnsafeBufferPointer { gear in
                guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self),
                      let out = samples.baseAddress else { return }
                var i = 0
                while i < bytes.count {
                    let end = min(bytes.count, i + Self.piece)
                    var k = 0
                    while i < end {
                        hash = (hash &<< 1) &+ gear[Int(base[i])]
                        // Sample where the top five bits are zero: ~1/32 of positions.
                        out[k] = hash
                        k &+= hash >> 59 == 0 ? 1 : 0
                        i &+= 1
                    }
                    sampled += k
                    for j in 0..<k {
                        let h = out[j]
                        m0 = max(m0, h &* 0x9E37_79B9_7F4A_7C15 &+ 0x2545_F491_4F6C_DD1D)
                        m1 = max(m1, h &* 0xC2B2_AE3D_27D4_EB4F &+ 0x5851_F42D_4C95_7F2D)
                        m2 = max(m2, h &* 0x1656_67B1_9E37_79F9 &+ 0x1405_7B7E_F767_814F)
                        m3 = max(m3, h &* 0x85EB_CA77_C2B2_AE63 &+ 0x0000_0001_0000_01B3)
                        m4 = max(m4, h &* 0x27D4_EB2F_1656_67C5 &+ 0xCBF2_9CE4_8422_2325)
                        m5 = max(m5, h &* 0xFF51_AFD7_ED55_8CCD &+ 0xD6E8_FEB8_6659_FD93)
                    }
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

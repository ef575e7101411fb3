/// FastCDC 2020 content-defined chunking with normalized chunking, rolling two
/// bytes per step.
///
/// Cut points equal those of fastcdc-rs `v2020` and pyfastcdc for the same
/// minimum, average and maximum sizes, normalization level and seed: the seed
/// is XORed into every gear-table entry (and, shifted left once, into the
/// pre-shifted table). In a repository the seed is derived from the master key
/// so that chunk boundaries do not fingerprint content.
public struct FastCDC: Sendable {
    public let parameters: ChunkerParameters
    private let gear: [UInt64]
    private let gearLS: [UInt64]
    private let maskS: UInt64, maskL: UInt64, maskSLS: UInt64, maskLLS: UInt64

    public init(_ parameters: ChunkerParameters) throws {
        try parameters.validate()
        self.parameters = parameters
        let bits = Self.log2Rounded(parameters.averageSize)
        let nc = Int(parameters.normalization)
        maskS = Self.masks[bits + nc]
        maskL = Self.masks[bits - nc]
        maskSLS = maskS &<< 1
        maskLLS = maskL &<< 1
        let seed = parameters.seed
        gear = Self.defaultGear.map { $0 ^ seed }
        gearLS = Self.defaultGear.map { ($0 &<< 1) ^ (seed &<< 1) }
    }

    /// log2 rounded to the nearest integer, as the reference implementations do
    /// (`floor(log2(v) + 0.5)`, exact here for every positive `Int`).
    static func log2Rounded(_ v: Int) -> Int {
        guard v > 0 else { return 0 }
        let floorLog = Int.bitWidth - 1 - v.leadingZeroBitCount
        // v >= 2^floor * sqrt(2) rounds up: compare the full 128-bit v^2 with
        // 2^(2*floor+1), which is below 2^127 because floor <= 62.
        let square = UInt64(v).multipliedFullWidth(by: UInt64(v))
        let twice = 2 * floorLog + 1
        let bound: (high: UInt64, low: UInt64) = twice >= 64 ? (1 << UInt64(twice - 64), 0) : (0, 1 << UInt64(twice))
        return (square.high, square.low) >= bound ? floorLog + 1 : floorLog
    }

    /// The length of the next chunk at the start of `buf`. `buf` must hold at
    /// least `maximumSize` bytes unless it reaches the end of the input, in
    /// which case a short final chunk is returned. Returns 0 only for empty input.
    public func cut(_ buf: UnsafeRawBufferPointer) -> Int {
        var remaining = buf.count
        let minSize = parameters.minimumSize
        if remaining <= minSize { return remaining }
        var center = parameters.averageSize
        if remaining > parameters.maximumSize { remaining = parameters.maximumSize }
        else if remaining < center { center = remaining }
        var hash: UInt64 = 0
        let start = (minSize / 2) * 2, mid = (center / 2) * 2, end = (remaining / 2) * 2
        return gear.withUnsafeBufferPointer { g in
            gearLS.withUnsafeBufferPointer { gl in
                var pos = start
                while pos < mid {
                    hash = (hash &<< 2) &+ gl[Int(buf[pos])]
                    if hash & maskSLS == 0 { return pos }
                    hash = hash &+ g[Int(buf[pos + 1])]
                    if hash & maskS == 0 { return pos + 1 }
                    pos += 2
                }
                while pos < end {
                    hash = (hash &<< 2) &+ gl[Int(buf[pos])]
                    if hash & maskLLS == 0 { return pos }
                    hash = hash &+ g[Int(buf[pos + 1])]
                    if hash & maskL == 0 { return pos + 1 }
                    pos += 2
                }
                return remaining
            }
        }
    }

    /// Every cut of a whole in-memory buffer, as (offset, length) pairs.
    public func chunks(of bytes: [UInt8]) -> [(offset: Int, length: Int)] {
        var out: [(Int, Int)] = []
        bytes.withUnsafeBytes { all in
            var offset = 0
            while offset < all.count {
                let n = cut(UnsafeRawBufferPointer(rebasing: all[offset...]))
                out.append((offset, n)); offset += n
            }
        }
        return out
    }
}

/// The sizes, normalization level and seed of a FastCDC chunker.
public struct ChunkerParameters: Hashable, Sendable, Codable {
    public var minimumSize: Int
    public var averageSize: Int
    public var maximumSize: Int
    /// Normalization level 0...3 (the paper's NC); 1 is the reference default.
    public var normalization: UInt8
    /// XORed into every gear-table entry.
    public var seed: UInt64

    public init(minimumSize: Int, averageSize: Int, maximumSize: Int, normalization: UInt8 = 1, seed: UInt64 = 0) {
        self.minimumSize = minimumSize; self.averageSize = averageSize; self.maximumSize = maximumSize
        self.normalization = normalization; self.seed = seed
    }

    /// min = avg/4, max = avg*4: the reference defaults.
    public init(averageSize: Int, normalization: UInt8 = 1, seed: UInt64 = 0) {
        self.init(minimumSize: averageSize / 4, averageSize: averageSize, maximumSize: averageSize * 4,
                  normalization: normalization, seed: seed)
    }

    /// The bounds pyfastcdc enforces; outside them the masks are undefined.
    public func validate() throws {
        func check(_ ok: Bool, _ reason: String) throws {
            if !ok { throw FormatError.invalid(what: "chunker parameters", reason: reason) }
        }
        try check((256...4 << 20).contains(averageSize), "average size \(averageSize) must be within 256 B...4 MiB")
        try check((64...1 << 20).contains(minimumSize), "minimum size \(minimumSize) must be within 64 B...1 MiB")
        try check((1024...16 << 20).contains(maximumSize), "maximum size \(maximumSize) must be within 1 KiB...16 MiB")
        try check(minimumSize <= averageSize && averageSize <= maximumSize, "sizes must satisfy min <= avg <= max")
        try check(normalization <= 3, "normalization level must be 0...3")
        let bits = FastCDC.log2Rounded(averageSize)
        try check(bits + Int(normalization) < FastCDC.masks.count && bits - Int(normalization) >= 5,
                  "normalization level \(normalization) is too large for average size \(averageSize)")
    }
}

import CairnFormat

/// SplitMix64 (Steele, Lea, Flood 2014): the test inputs' pseudo-random
/// generator, reimplemented byte for byte in `Vectors/make_fastcdc_vectors.py`
/// and described in `format-spec/v1.md`, so generated inputs need not be stored.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `count` bytes: each output word in little-endian order, the last word cut short.
    mutating func bytes(_ count: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { buf, initialized in
            var i = 0
            while i < count {
                var w = next()
                let n = min(8, count - i)
                for j in 0..<n { buf[i + j] = UInt8(truncatingIfNeeded: w); w >>= 8 }
                i += n
            }
            initialized = count
        }
    }
}

/// The kinds of generated chunker input shared with the Python vector
/// generator. Each input of a kind is a prefix of one endless stream, so an
/// input is named by kind, seed and size.
enum GeneratedInput: String, CaseIterable {
    /// SplitMix64 output bytes.
    case random
    /// Words from a fixed list, separated by spaces and sometimes newlines.
    case text
    /// All zero bytes.
    case zeros
    /// A 3000-byte random block (SplitMix64 bytes) repeated.
    case repeated

    static let words: [[UInt8]] = [
        "the", "backup", "chunk", "of", "a", "database", "dump", "INSERT", "INTO", "VALUES",
        "(1,", "'cairn',", "NULL);", "--", "snapshot", "repository",
    ].map { Array($0.utf8) }

    func bytes(seed: UInt64, count: Int) -> [UInt8] {
        var rng = SplitMix64(seed: seed)
        switch self {
        case .random:
            return rng.bytes(count)
        case .zeros:
            return [UInt8](repeating: 0, count: count)
        case .repeated:
            let block = rng.bytes(3000)
            var out: [UInt8] = []; out.reserveCapacity(count + 3000)
            while out.count < count { out += block }
            return Array(out.prefix(count))
        case .text:
            var out: [UInt8] = []; out.reserveCapacity(count + 16)
            while out.count < count {
                out += Self.words[Int(rng.next() % UInt64(Self.words.count))]
                out.append(rng.next() % 8 == 0 ? 10 : 32)
            }
            return Array(out.prefix(count))
        }
    }
}

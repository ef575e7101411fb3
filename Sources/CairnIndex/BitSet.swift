/// A fixed number of bits, one per index entry (an eighth of a byte each):
/// what a prune or scrub marks per blob instead of holding a set of ids.
public struct BitSet: Sendable {
    private var words: [UInt64]
    public private(set) var count: Int

    public init(count: Int) {
        self.count = count
        words = [UInt64](repeating: 0, count: (count + 63) >> 6)
    }

    @inline(__always) public subscript(i: Int) -> Bool {
        get { words[i >> 6] & (1 << UInt64(i & 63)) != 0 }
        set {
            if newValue { words[i >> 6] |= 1 << UInt64(i & 63) } else { words[i >> 6] &= ~(1 << UInt64(i & 63)) }
        }
    }

    /// Sets bit `i`; true when it was clear.
    @inline(__always) @discardableResult
    public mutating func insert(_ i: Int) -> Bool {
        let mask: UInt64 = 1 << UInt64(i & 63)
        let was = words[i >> 6] & mask
        words[i >> 6] |= mask
        return was == 0
    }

    /// Adds a bit at the end.
    public mutating func append(_ bit: Bool) {
        if count & 63 == 0 { words.append(0) }
        count += 1
        if bit { self[count - 1] = true }
    }

    public mutating func removeAll() {
        for i in words.indices { words[i] = 0 }
    }

    /// Bits set.
    public var population: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// Bytes held.
    public var bytes: Int { words.count * 8 }
}

/// A stream entry ID as stored in consumer groups: two big-endian u64s.
struct StreamID: Hashable, CustomStringConvertible {
    let ms: UInt64, seq: UInt64
    init(_ b: [UInt8]) {
        ms = b[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
        seq = b[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
    }
    var description: String { "\(ms)-\(seq)" }
}

/// CRC-64 with the Jones polynomial, as Redis computes the RDB trailer
/// (`crc64.c`): polynomial 0xad93d23594c935a9, reflected input and output,
/// initial value 0, no final XOR. The check value of "123456789" is
/// 0xe9c6d914c4b8d9ca.
///
/// Table-driven, eight bytes per step ("slicing by 8"). Pure: no I/O.
public struct CRC64: Sendable {
    /// The running checksum.
    public private(set) var value: UInt64 = 0

    public init() {}

    /// The Jones polynomial in reflected (LSB-first) form.
    static let reflectedPolynomial: UInt64 = 0x95ac_9329_ac4b_c9b5

    /// Eight 256-entry tables; table 0 is the classic byte-at-a-time table.
    static let tables: [[UInt64]] = {
        var t = [[UInt64]](repeating: [UInt64](repeating: 0, count: 256), count: 8)
        for i in 0..<256 {
            var c = UInt64(i)
            for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ reflectedPolynomial : c >> 1 }
            t[0][i] = c
        }
        for i in 0..<256 {
            for k in 1..<8 { t[k][i] = (t[k - 1][i] >> 8) ^ t[0][Int(t[k - 1][i] & 0xff)] }
        }
        return t
    }()

    /// Folds `bytes` into the checksum.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        value = Self.update(value, bytes)
    }

    /// Folds an array of bytes into the checksum.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The checksum of `bytes` continued from `crc`.
    public static func update(_ crc: UInt64, _ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var c = crc
        var i = 0
        let n = bytes.count
        tables.withUnsafeBufferPointer { t in
            t[0].withUnsafeBufferPointer { t0 in
            t[1].withUnsafeBufferPointer { t1 in
            t[2].withUnsafeBufferPointer { t2 in
            t[3].withUnsafeBufferPointer { t3 in
            t[4].withUnsafeBufferPointer { t4 in
            t[5].withUnsafeBufferPointer { t5 in
            t[6].withUnsafeBufferPointer { t6 in
            t[7].withUnsafeBufferPointer { t7 in
                while n - i >= 8 {
                    var word: UInt64 = 0
                    withUnsafeMutableBytes(of: &word) { w in
                        w.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[i..<i + 8]))
                    }
                    c ^= UInt64(littleEndian: word)
                    c = t7[Int(c & 0xff)] ^ t6[Int((c >> 8) & 0xff)] ^ t5[Int((c >> 16) & 0xff)] ^ t4[Int((c >> 24) & 0xff)]
                        ^ t3[Int((c >> 32) & 0xff)] ^ t2[Int((c >> 40) & 0xff)] ^ t1[Int((c >> 48) & 0xff)] ^ t0[Int(c >> 56)]
                    i += 8
                }
                while i < n {
                    c = t0[Int((c ^ UInt64(bytes[i])) & 0xff)] ^ (c >> 8)
                    i += 1
                }
            }}}}}}}}
        }
        return c
    }

    /// The checksum of a whole byte array.
    public static func checksum(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { update(0, $0) }
    }
}

/// A PostgreSQL write-ahead-log position (`XLogRecPtr`), written `16/B374D848`.
public struct LSN: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var value: UInt64

    public init(_ value: UInt64) { self.value = value }

    /// Parses PostgreSQL's text form: two hexadecimal numbers of at most 8 digits around a slash.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...8).contains(parts[0].count), (1...8).contains(parts[1].count),
              let hi = UInt64(parts[0], radix: 16), let lo = UInt64(parts[1], radix: 16) else { return nil }
        value = hi << 32 | lo
    }

    public var description: String {
        String(value >> 32, radix: 16, uppercase: true) + "/" + String(value & 0xFFFF_FFFF, radix: 16, uppercase: true)
    }

    /// The number of the segment holding this position.
    public func segment(size: UInt64) -> UInt64 { value / size }

    public static func < (a: LSN, b: LSN) -> Bool { a.value < b.value }
}

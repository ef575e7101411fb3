/// How much prune may leave and rewrite.
public struct PruneOptions: Sendable {
    public enum MaxUnused: Sendable, Equatable, CustomStringConvertible {
        /// Unused bytes may be this share (0…100) of all bytes after the prune.
        case percent(Double)
        case bytes(UInt64)
        case unlimited

        public var description: String {
            switch self {
            case .percent(let p): return "\(p)%"
            case .bytes(let b): return "\(b) bytes"
            case .unlimited: return "unlimited"
            }
        }
    }

    public var maxUnused: MaxUnused = .percent(5)
    /// Total size of packs that may be repacked; nil for no limit, 0 to only delete.
    public var maxRepackBytes: UInt64? = nil
    public var dryRun = false
    public init() {}

    /// `5%`, `0`, `200M`, `unlimited`.
    public static func parseMaxUnused(_ text: String) -> MaxUnused? {
        if text == "unlimited" { return .unlimited }
        if text.hasSuffix("%") {
            guard let p = Double(text.dropLast()), p >= 0, p < 100 else { return nil }
            return .percent(p)
        }
        return parseSize(text).map { .bytes($0) }
    }

    /// Bytes: `0`, `1048576`, `500K`, `200M`, `2G`, `1T` (powers of 1024; a trailing `B`/`iB` is allowed).
    public static func parseSize(_ text: String) -> UInt64? {
        var t = text.uppercased()
        if t.hasSuffix("IB") { t.removeLast(2) } else if t.hasSuffix("B") { t.removeLast() }
        var mult: UInt64 = 1
        if let last = t.last, let i = "KMGT".firstIndex(of: last) {
            mult = UInt64(1) << (10 * UInt64("KMGT".distance(from: "KMGT".startIndex, to: i) + 1))
            t.removeLast()
        }
        guard let n = UInt64(t) else { return nil }
        let (v, overflow) = n.multipliedReportingOverflow(by: mult)
        return overflow ? nil : v
    }
}


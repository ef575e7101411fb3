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

        /// The unused bytes that may stay when `usedBytes` are used (restic's --max-unused).
        func allowed(usedBytes: UInt64) -> UInt64 {
            switch self {
            case .unlimited: return .max
            case .bytes(let b): return b
            case .percent(let pct): return UInt64(Double(usedBytes) * pct / (100 - pct))
            }
        }
    }

    public var maxUnused: MaxUnused = .percent(5)
    /// Total size of packs that may be repacked; nil for no limit, 0 to only delete.
    public var maxRepackBytes: UInt64? = nil
    /// Which packs count as small (restic's `--repack-small`): false, those under 1/25 of the
    /// repository's pack size (the one- and two-blob packs each `wal-push` and small backup
    /// leaves); true, those under 4/5 of it. Fully used small packs are combined into full ones
    /// once there are at least `minimumSmallPacks` of them, whatever `maxUnused` allows.
    public var repackSmall = false
    public var dryRun = false

    /// Fewer small packs than this stay as they are: not worth a rewrite, and a single small
    /// pack (the last one a repack writes) is never repacked over and over.
    public static let minimumSmallPacks = 10

    /// Packs under this size are small, for a repository whose packs aim at `packSize` bytes.
    public func smallPackLimit(packSize: UInt64) -> UInt64 {
        repackSmall ? packSize / 5 * 4 : packSize / 25
    }
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


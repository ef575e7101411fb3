#if canImport(Glibc)
import Glibc
#endif

/// Times as RFC 3339 in UTC, whole seconds (`2026-12-07T02:55:16Z`), from the C library's
/// `gmtime_r`: the one formatter of the CLI's times and CairnOps' messages. A Foundation
/// formatter built per time set up ICU's calendar each time: most of the CPU of listing a few
/// dozen snapshots (Docs/performance.md, "Cost independent of history").
public enum RFC3339 {
    /// `seconds` since the epoch as `YYYY-MM-DDTHH:MM:SSZ`; nil outside the years 0-9999, which
    /// the format cannot write (a caller with a fallback of its own uses it there).
    public static func utc(_ seconds: Int64) -> String? {
        var t = time_t(seconds)
        var parts = tm()
        guard gmtime_r(&t, &parts) != nil else { return nil }
        let year = Int(parts.tm_year) + 1900
        guard (0...9999).contains(year) else { return nil }
        func pad(_ v: Int, _ n: Int) -> String { let s = String(v); return String(repeating: "0", count: n - s.count) + s }
        return "\(pad(year, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))T"
            + "\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2))Z"
    }

    /// Seconds since the epoch (a fraction rounded down) as `utc(_:)` writes them; nil for a
    /// value that is not finite or outside the years 0-9999. Times read back from snapshots stay
    /// Doubles until here: Int64(seconds * 1e9) traps near Int64.max.
    public static func utc(seconds: Double) -> String? {
        let whole = seconds.rounded(.down)
        guard whole.isFinite, abs(whole) < 1e15 else { return nil }
        return utc(Int64(whole))
    }
}

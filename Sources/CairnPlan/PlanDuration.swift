/// Durations in plan files: `90s`, `15m`, `26h`, `8d`, `2w`, `1y`, or
/// combined like `1d12h`. Here `m` is minutes (retention's `keep.within`
/// follows restic instead, where `m` is months; see KeepPolicy).
public enum PlanDuration {
    /// Seconds, or nil when `text` is not a positive duration.
    public static func seconds(_ text: String) -> Int64? {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800, "y": 31_536_000]
        var total: Int64 = 0, number = ""
        for c in text {
            if c.isASCII && c.isNumber { number.append(c); continue }
            guard let u = units[c], let n = Int64(number) else { return nil }
            let (product, o1) = n.multipliedReportingOverflow(by: u)
            let (sum, o2) = total.addingReportingOverflow(product)
            guard !o1, !o2 else { return nil }
            total = sum
            number = ""
        }
        guard number.isEmpty, total > 0 else { return nil }
        return total
    }

    /// A compact human form: `26h`, `1d2h`, `15m`, `45s`.
    public static func format(_ seconds: Int64) -> String {
        if seconds <= 0 { return "0s" }
        var rest = seconds, out = ""
        for (u, n) in [("d", Int64(86_400)), ("h", 3600), ("m", 60), ("s", 1)] where rest >= n {
            out += "\(rest / n)\(u)"
            rest %= n
        }
        return out
    }

    /// Like `format` but for fractional seconds below a minute (`2.4s`).
    public static func format(seconds: Double) -> String {
        if seconds < 60 {
            let tenths = Int64((seconds * 10).rounded())
            return "\(tenths / 10).\(tenths % 10)s"
        }
        return format(Int64(seconds.rounded()))
    }
}

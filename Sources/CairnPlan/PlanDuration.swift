/// Durations in plan files: `90s`, `15m`, `26h`, `8d`, `2w`, `1y`, or
/// combined like `1d12h`. Here `m` is minutes (retention's `keep.within`
/// follows restic instead, where `m` is months; see KeepPolicy).
public enum PlanDuration {
    private static let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800, "y": 31_536_000]

    /// Seconds, or nil when `text` is not a positive duration.
    public static func seconds(_ text: String) -> Int64? {
        guard let terms = terms(text, fractions: false) else { return nil }
        var total: Int64 = 0
        for (number, unit) in terms {
            guard let n = Int64(number) else { return nil }
            let (product, o1) = n.multipliedReportingOverflow(by: unit)
            let (sum, o2) = total.addingReportingOverflow(product)
            guard !o1, !o2 else { return nil }
            total = sum
        }
        return total > 0 ? total : nil
    }

    /// Seconds of a command-line duration, where a number may have a fraction (`1.5h`);
    /// nil when `text` is not a positive, finite duration.
    public static func fractionalSeconds(_ text: String) -> Double? {
        guard let terms = terms(text, fractions: true) else { return nil }
        var total = 0.0
        for (number, unit) in terms {
            guard let n = Double(number) else { return nil }
            total += n * Double(unit)
        }
        return total > 0 && total.isFinite ? total : nil
    }

    /// The `number unit` pairs of `text`; nil when a number lacks its unit or a character is neither.
    private static func terms(_ text: String, fractions: Bool) -> [(number: String, unit: Int64)]? {
        var out: [(number: String, unit: Int64)] = [], number = ""
        for c in text {
            if c.isASCII && c.isNumber || fractions && c == "." { number.append(c); continue }
            guard let u = units[c], !number.isEmpty else { return nil }
            out.append((number, u))
            number = ""
        }
        return number.isEmpty ? out : nil
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

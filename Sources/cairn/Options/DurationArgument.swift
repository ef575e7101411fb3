/// Parses durations like `90s`, `15m`, `26h`, `30d`, `2w`, `1y`, or combined `1d12h`.
enum DurationArgument {
    static func seconds(_ s: String) -> Double? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800, "y": 31_536_000]
        var total = 0.0, number = ""
        for c in s {
            if c.isNumber || c == "." { number.append(c); continue }
            guard let u = units[c], let n = Double(number) else { return nil }
            total += n * u
            number = ""
        }
        guard number.isEmpty, total > 0 else { return nil }
        return total
    }
}

import Foundation

/// The text of a progress line, one unit system throughout (binary units:
/// KiB, MiB, GiB, and MiB/s for rates): done against the total when the total
/// is known, a percentage, the rate and an ETA. Pure: the CLI decides where
/// and how often to print it.
public enum ProgressText {
    /// "backing up 12 of 40 files, 1.20 GiB of 3.00 GiB (40%), 25.3 MiB/s, ETA 1:21";
    /// without a total (the scan still running): "backing up 12 files, 1.20 GiB, 25.3 MiB/s".
    /// - Parameter elapsed: seconds since the work started.
    public static func line(_ c: WorkProgress.Counters, verb: String, elapsed: Double) -> String {
        let secs = max(elapsed, 0.001)
        let rate = Double(c.bytesDone) / secs
        var parts: [String] = []
        if let total = c.filesTotal {
            parts.append("\(verb) \(c.filesDone) of \(total) files")
        } else {
            parts.append("\(verb) \(c.filesDone) files")
        }
        if let total = c.bytesTotal {
            var s = "\(bytes(c.bytesDone)) of \(bytes(total))"
            if let pct = percent(c) { s += " (\(pct)%)" }
            parts.append(s)
        } else {
            parts.append(bytes(c.bytesDone))
        }
        parts.append("\(bytes(UInt64(rate)))/s")
        if let total = c.bytesTotal, total > c.bytesDone, rate > 0, elapsed >= 1 {
            parts.append("ETA \(duration(Double(total - c.bytesDone) / rate))")
        }
        return parts.joined(separator: ", ")
    }

    /// Percent done (0...100) by bytes, or by files when the total holds no bytes.
    public static func percent(_ c: WorkProgress.Counters) -> Int? {
        if let total = c.bytesTotal, total > 0 {
            return Int(min(100, Double(c.bytesDone) * 100 / Double(total)))
        }
        if let total = c.filesTotal, total > 0 {
            return Int(min(100, Double(c.filesDone) * 100 / Double(total)))
        }
        if c.bytesTotal == 0 || c.filesTotal == 0 { return 100 }
        return nil
    }

    /// Bytes in binary units: "512 B", "1.50 KiB", "3.00 GiB".
    public static func bytes(_ n: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var v = Double(n), u = 0
        while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
        return u == 0 ? "\(n) B" : String(format: "%.2f %@", v, units[u])
    }

    /// Seconds as "m:ss" or "h:mm:ss" (restic's ETA form); "?" beyond 100 days.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0, seconds < 100 * 86400 else { return "?" }
        let s = Int(seconds.rounded(.up))
        let h = s / 3600, m = (s % 3600) / 60, r = s % 60
        return h > 0 ? String(format: "%d:%02d:%02d", h, m, r) : String(format: "%d:%02d", m, r)
    }
}

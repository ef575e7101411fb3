import Foundation

/// Text made safe for HTML and SVG: every string from a repository or a plan
/// (snapshot names, messages, paths) goes through `escape` before it is written.
public enum HTMLText {
    /// Escapes `&`, `<`, `>`, `"` and `'` (safe in element content and in quoted attributes).
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                // Control characters other than tab and newline have no place in a page.
                if c.value < 0x20 && c != "\t" && c != "\n" { out += "\u{FFFD}" } else { out.unicodeScalars.append(c) }
            }
        }
        return out
    }

    /// Bytes in binary units, like `cairn stats` (B, KiB, MiB, GiB, TiB).
    public static func bytes(_ v: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var x = v, i = 0
        while abs(x) >= 1024 && i < units.count - 1 { x /= 1024; i += 1 }
        return i == 0 ? "\(Int64(x)) B" : String(format: "%.1f %@", x, units[i])
    }

    /// A UTC time as `2026-01-04 05:17`.
    public static func time(_ seconds: Double) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm"
        return f.string(from: Date(timeIntervalSince1970: seconds))
    }
}

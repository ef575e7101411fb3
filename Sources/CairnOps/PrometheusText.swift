import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Prometheus's text exposition format as the node exporter's textfile collector reads it: gauge
/// families (`# HELP`, `# TYPE`, samples), and the file replaced whole so a scrape never reads half of it.
/// `status` and `scrub` both write their metrics through this one writer.
public struct PrometheusText: Sendable {
    /// The text so far.
    public private(set) var text = ""

    public init() {}

    /// One gauge family: `# HELP` (when `help` is given), `# TYPE`, then one sample per label set
    /// (`labels` empty: a sample without braces). A family without samples still declares itself.
    public mutating func gauge(_ name: String, help: String?, _ samples: [(labels: String, value: String)]) {
        if let help { text += "# HELP \(name) \(help)\n" }
        text += "# TYPE \(name) gauge\n"
        for s in samples { text += s.labels.isEmpty ? "\(name) \(s.value)\n" : "\(name){\(s.labels)} \(s.value)\n" }
    }

    /// One gauge family with a single unlabelled sample.
    public mutating func gauge(_ name: String, help: String?, _ value: String) {
        gauge(name, help: help, [(labels: "", value: value)])
    }

    /// A label value as the format quotes it (backslash, double quote and newline escaped).
    public static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    /// Writes `text` to `path` through `path.tmp` and a rename: the collector reads the old file or the new one.
    public static func write(_ text: String, to path: String) throws(OpsError) {
        let tmp = path + ".tmp"
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: tmp))
        } catch {
            throw OpsError.failed("cannot write the metrics file \(path): \(error.localizedDescription)")
        }
        guard rename(tmp, path) == 0 else {
            throw OpsError.failed("cannot rename \(tmp) to \(path): \(String(cString: strerror(errno)))")
        }
    }
}

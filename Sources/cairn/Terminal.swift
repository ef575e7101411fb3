import CairnEngine
import CairnFormat
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Printing: results to standard output, messages and progress to standard error.
enum Terminal {
    static func error(_ message: String) {
        FileHandle.standardError.write(Data("cairn: error: \(message)\n".utf8))
    }

    static func warn(_ message: String) {
        FileHandle.standardError.write(Data("cairn: warning: \(message)\n".utf8))
    }

    static func info(_ message: String) {
        FileHandle.standardError.write(Data("\(message)\n".utf8))
    }

    static func out(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static var stderrIsTTY: Bool { isatty(2) == 1 }

    /// One JSON value on one line.
    static func json<T: Encodable>(_ value: T) { json(value, to: 1) }

    /// One JSON value on one line to `fd` (2 when standard output carries data).
    static func json<T: Encodable>(_ value: T, to fd: Int32) {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? enc.encode(value) else { return }
        (fd == 2 ? FileHandle.standardError : FileHandle.standardOutput).write(data + Data("\n".utf8))
    }

    static func bytes(_ n: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(n), u = 0
        while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
        return u == 0 ? "\(n) B" : String(format: "%.2f %@", v, units[u])
    }

    static func rfc3339(_ nanos: Int64) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: Date(timeIntervalSince1970: Double(nanos) / 1e9))
    }

    /// Seconds since the epoch as RFC 3339 in UTC. Times read back from
    /// snapshots stay Doubles: Int64(seconds * 1e9) traps near Int64.max.
    static func rfc3339(seconds: Double) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: Date(timeIntervalSince1970: seconds))
    }

    /// A file time (any year) as RFC 3339 in UTC.
    static func rfc3339(_ t: FileTime) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: Date(timeIntervalSince1970: Double(t.seconds) + Double(t.nanoseconds) / 1e9))
    }

    static func parseRFC3339(_ s: String) -> Int64? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        if let d = f.date(from: s) { return Int64((d.timeIntervalSince1970 * 1e9).rounded()) }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: s) { return Int64((d.timeIntervalSince1970 * 1e9).rounded()) }
        return nil
    }
}

/// Draws a live progress line on standard error while long work runs.
final class ProgressLine: @unchecked Sendable {
    private let progress: WorkProgress
    private let verb: String
    private var task: Task<Void, Never>?

    init(progress: WorkProgress, verb: String, enabled: Bool) {
        self.progress = progress
        self.verb = verb
        guard enabled else { return }
        task = Task { [progress, verb] in
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: 500_000_000)
                if Task.isCancelled { break }
                FileHandle.standardError.write(Data(("\r\u{1B}[K" + Self.line(progress, verb)).utf8))
            }
        }
    }

    static func line(_ p: WorkProgress, _ verb: String) -> String {
        let c = p.counters
        let secs = max(Clock.monotonic() - p.started, 0.001)
        let rate = Double(c.bytesDone) / secs / 1e6
        var s = "\(verb) \(Terminal.bytes(c.bytesDone))"
        if let total = c.bytesTotal, total > 0 {
            s += " of \(Terminal.bytes(total)) (\(Int(Double(c.bytesDone) * 100 / Double(total)))%)"
            if rate > 0, c.bytesDone < total {
                s += ", ETA \(Int(Double(total - c.bytesDone) / (rate * 1e6)))s"
            }
        }
        s += String(format: ", %.1f MB/s, %llu files", rate, c.filesDone)
        return s
    }

    func stop() {
        guard let task else { return }
        task.cancel()
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}

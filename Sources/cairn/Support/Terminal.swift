import CairnEngine
import CairnRepository
import CairnFormat
import CairnSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Printing: results to standard output, messages and progress to standard error.
enum Terminal {
    static func error(_ message: String) {
        FileHandle.standardError.write(Data((errorLine(message) + "\n").utf8))
    }

    /// The one form of an error line: `cairn: error: MESSAGE`.
    static func errorLine(_ message: String) -> String { "cairn: error: \(message)" }

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

    static func bytes(_ n: UInt64) -> String { ProgressText.bytes(n) }

    /// RFC 3339 in UTC (`2026-12-07T02:55:16Z`), whole seconds.
    static func rfc3339(_ nanos: Int64) -> String {
        let seconds = nanos / 1_000_000_000 - (nanos % 1_000_000_000 < 0 ? 1 : 0)
        return RFC3339.utc(seconds) ?? formatted(Date(timeIntervalSince1970: Double(nanos) / 1e9))
    }

    /// Seconds since the epoch as RFC 3339 in UTC.
    static func rfc3339(seconds: Double) -> String {
        RFC3339.utc(seconds: seconds) ?? formatted(Date(timeIntervalSince1970: seconds))
    }

    /// A file time (any year) as RFC 3339 in UTC.
    static func rfc3339(_ t: FileTime) -> String {
        RFC3339.utc(t.seconds) ?? formatted(Date(timeIntervalSince1970: Double(t.seconds) + Double(t.nanoseconds) / 1e9))
    }

    /// Foundation's RFC 3339 formatting: for the years `RFC3339` does not write.
    private static func formatted(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: date)
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

/// Shows progress on standard error while long work runs. On a terminal: one
/// line redrawn in place twice a second. Anywhere else (`--progress` with
/// standard error sent to a file or a pipe): a plain line every few seconds and
/// a last one when the work stops, never a terminal control code.
final class ProgressLine: @unchecked Sendable {
    private let progress: WorkProgress
    private let verb: String
    private let plain: Bool
    private var task: Task<Void, Never>?

    private init(progress: WorkProgress, verb: String, enabled: Bool) {
        self.progress = progress
        self.verb = verb
        self.plain = !Terminal.stderrIsTTY
        guard enabled else { return }
        let interval: UInt64 = plain ? 5_000_000_000 : 500_000_000
        task = Task { [progress, verb, plain] in
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: interval)
                if Task.isCancelled { break }
                let text = Self.line(progress, verb)
                FileHandle.standardError.write(Data((plain ? text + "\n" : "\r\u{1B}[K" + text).utf8))
            }
        }
    }

    /// Runs `work` with the progress line shown (when `enabled`), and ends the line however the work ends:
    /// the one start/stop every long command uses.
    static func showing<T>(_ progress: WorkProgress, verb: String, enabled: Bool, during work: () async throws -> T) async rethrows -> T {
        let line = ProgressLine(progress: progress, verb: verb, enabled: enabled)
        defer { line.stop() }
        return try await work()
    }

    static func line(_ p: WorkProgress, _ verb: String) -> String {
        ProgressText.line(p.counters, verb: verb, elapsed: Clock.monotonic() - p.started)
    }

    /// Ends the line: cleared on a terminal; elsewhere the final counts as one more plain line.
    private func stop() {
        guard let task else { return }
        task.cancel()
        self.task = nil
        if plain {
            FileHandle.standardError.write(Data((Self.line(progress, verb) + "\n").utf8))
        } else {
            FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        }
    }
}

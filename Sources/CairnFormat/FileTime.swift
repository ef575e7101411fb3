/// A file time as the kernel keeps it: seconds since the Unix epoch (negative
/// before 1970) and the nanoseconds after that second. Any time a file system
/// can hold fits, unlike nanoseconds in an Int64 (1677-09-21 to 2262-04-11).
public struct FileTime: Hashable, Sendable, Comparable {
    public var seconds: Int64
    /// 0 ..< 1_000_000_000.
    public var nanoseconds: UInt32

    public init(seconds: Int64, nanoseconds: UInt32) {
        self.seconds = seconds; self.nanoseconds = nanoseconds
    }

    /// From nanoseconds since the epoch (any Int64, Int64.min included).
    public init(nanos: Int64) {
        var s = nanos / 1_000_000_000, n = nanos % 1_000_000_000
        if n < 0 { s -= 1; n += 1_000_000_000 }
        seconds = s; nanoseconds = UInt32(n)
    }

    /// Nanoseconds since the epoch, or nil outside what an Int64 holds.
    public var nanosSinceEpoch: Int64? {
        // Before 1970 with a fraction, count from the next second down: Int64.min nanoseconds is
        // (-9223372037 s, +145224192 ns), and -9223372037 s alone does not fit.
        let (whole, part) = seconds < 0 && nanoseconds > 0 ? (seconds + 1, Int64(nanoseconds) - 1_000_000_000) : (seconds, Int64(nanoseconds))
        let (s, o1) = whole.multipliedReportingOverflow(by: 1_000_000_000)
        let (t, o2) = s.addingReportingOverflow(part)
        return o1 || o2 ? nil : t
    }

    /// Nanoseconds since the epoch, clamped to Int64's range.
    public var clampedNanos: Int64 { nanosSinceEpoch ?? (seconds < 0 ? .min : .max) }

    public static func < (a: FileTime, b: FileTime) -> Bool { (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds) }
}

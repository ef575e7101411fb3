#if canImport(Glibc)
import Glibc
#endif

/// Facts about the machine and the clock.
enum Host {
    static var name: String {
        var buf = [CChar](repeating: 0, count: 256)
        gethostname(&buf, 255)
        return String(cString: buf)
    }

    static var user: String {
        if let pw = getpwuid(geteuid()), let n = pw.pointee.pw_name { return String(cString: n) }
        return String(geteuid())
    }
}

public enum Clock {
    /// Nanoseconds since the Unix epoch.
    public static func nowNanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// Seconds on a monotonic clock, for durations.
    public static func monotonic() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// Small file-system helpers.
enum FileSystem {
    static func makeDirectories(_ path: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/\(part)"
            if mkdir(current, 0o700) != 0 && errno != EEXIST {
                throw CairnError.io("cannot create directory \(current): \(String(cString: strerror(errno)))")
            }
        }
    }
}

/// Warnings from the engine go to standard error, one line each.
enum FileHandleOutput {
    static func warn(_ message: String) {
        let line = "cairn: warning: \(message)\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
    }
}
